namespace FanOut.Hangfire.Runs;

/// <summary>What storage knows of one run: what triggered it, how far its dispatch got, and its completions.</summary>
internal sealed record RunRecord(
    string RunId,
    string Kind,
    string Name,
    string EventName,
    string Status,
    IReadOnlyList<string> HandlerIds,
    DateTimeOffset? DispatchStartedAt,
    DateTimeOffset? DispatchFinishedAt,
    long DispatchedItems,
    long DispatchedJobs,
    string? LastKey,
    DateTimeOffset? CompletedAt,
    int Completions)
{
    public const string CronKind = "cron";
    public const string SendKind = "send";

    public const string Dispatching = "dispatching";
    public const string Dispatched = "dispatched";
    public const string Skipped = "skipped";
    public const string Interrupted = "interrupted";

    public DispatchCheckpoint Checkpoint => new(DispatchedItems, DispatchedJobs, LastKey);

    /// <summary>Whether no more jobs will be dispatched for the run, so it can complete once they all end.</summary>
    public bool DispatchEnded => Status is Dispatched or Interrupted;
}

/// <summary>How far a run's dispatch got: committed in the same transaction as the jobs it counts.</summary>
internal readonly record struct DispatchCheckpoint(long Items, long Jobs, string? LastKey)
{
    public static DispatchCheckpoint Start => new(0, 0, null);
}
