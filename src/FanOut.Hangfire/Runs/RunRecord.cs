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
    int Completions,
    DateTimeOffset? TriggeredAt = null,
    DateTimeOffset? ResumeRequestedAt = null,
    bool IsManualTrigger = false)
{
    public const string CronKind = "cron";
    public const string SendKind = "send";

    /// <summary>Triggered: its dispatch job is enqueued and has not started yet.</summary>
    public const string Pending = "pending";

    public const string Dispatching = "dispatching";
    public const string Dispatched = "dispatched";
    public const string Skipped = "skipped";
    public const string Interrupted = "interrupted";

    public DispatchCheckpoint Checkpoint => new(DispatchedItems, DispatchedJobs, LastKey);

    /// <summary>Whether no more jobs will be dispatched for the run, so it can complete once they all end.</summary>
    public bool DispatchEnded => Status is Dispatched or Interrupted;
}
