namespace FanOut.Hangfire.Runs;

/// <summary>Every storage key the library writes for runs, in one place.</summary>
internal static class RunKeys
{
    /// <summary>Runs that are not complete yet (or were reopened); the completion monitor watches them.</summary>
    public const string Open = "fanout:runs:open";

    public static string Run(string runId) => "fanout:run:" + runId;

    /// <summary>The set of the ids of a run's jobs of one handler in one final state.</summary>
    public static string Outcome(string runId, string handlerId, string outcome) => $"fanout:run:{runId}:{handlerId}:{outcome}";

    public static string List(string name) => "fanout:runs:" + name;

    public static string Lock(string runId) => "fanout:run-lock:" + runId;
}
