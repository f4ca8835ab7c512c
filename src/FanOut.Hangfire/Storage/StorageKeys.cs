namespace FanOut.Hangfire.Storage;

/// <summary>
/// Every key the library writes in Hangfire's storage, in one place. They are a stored contract, like the job
/// signatures: a run recorded, a lease held or a recurring job scheduled by one version is read by the next, so none of
/// them changes once released (a contract test pins each one). Ids and names never contain ':' (see
/// <c>Registration.Names</c>), so the parts cannot run into each other.
/// </summary>
internal static class StorageKeys
{
    /// <summary>The prefix of every recurring job the library owns; no other recurring job is ever touched.</summary>
    public const string RecurringJobPrefix = "fanout:";

    /// <summary>The set of runs that are not complete yet (or were reopened); the completion monitor watches them.</summary>
    public const string OpenRuns = "fanout:open-runs";

    /// <summary>The recurring job that fires a cron fan-out.</summary>
    public static string RecurringJob(string fanOutId) => RecurringJobPrefix + fanOutId;

    public static bool IsOwnedRecurringJob(string recurringJobId) => recurringJobId.StartsWith(RecurringJobPrefix, StringComparison.Ordinal);

    /// <summary>The hash holding a run's record (see <c>Runs.RunStore</c> for its fields).</summary>
    public static string Run(string runId) => "fanout:run:" + runId;

    /// <summary>The set of the ids of a run's jobs of one handler in one final state.</summary>
    public static string Outcome(string runId, string handlerId, string outcome) => $"fanout:run:{runId}:{handlerId}:{outcome}";

    /// <summary>The list of the recent runs of a cron fan-out (by id) or of an event's sends (by name), newest first.</summary>
    public static string RunList(string name) => "fanout:runs:" + name;

    /// <summary>The distributed lock taken to complete a run.</summary>
    public static string RunLock(string runId) => "fanout:run-lock:" + runId;

    /// <summary>The distributed lock taken to ask for the resume of a run whose dispatcher stopped, so one process asks.</summary>
    public static string ResumeLock(string runId) => "fanout:resume-lock:" + runId;

    /// <summary>The hash naming the execution that holds a cron fan-out's dispatch lease, and until when.</summary>
    public static string Lease(string fanOutId) => "fanout:lease:" + fanOutId;

    /// <summary>The distributed lock taken to read and change a lease.</summary>
    public static string LeaseLock(string fanOutId) => "fanout:lease-lock:" + fanOutId;
}
