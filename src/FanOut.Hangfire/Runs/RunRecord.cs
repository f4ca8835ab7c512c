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
    DateTimeOffset? CancelledAt = null,
    string? StoredSkipReason = null,
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

    /// <summary>Cancelled: read so whenever <see cref="CancelledAt"/> is set, whatever a dispatch still running wrote after it.</summary>
    public const string Cancelled = "cancelled";
    /// <summary>Skipped because the previous dispatch of its fan-out still ran.</summary>
    public const string OverlapSkip = "overlap";

    /// <summary>Skipped because its fan-out was paused.</summary>
    public const string PausedSkip = "paused";

    /// <summary>Why a skipped run was skipped (records of versions before the reason was kept were all overlaps); null otherwise.</summary>
    public string? SkipReason => Status == Skipped ? StoredSkipReason ?? OverlapSkip : null;

    public DispatchCheckpoint Checkpoint => new(DispatchedItems, DispatchedJobs, LastKey);

    public bool IsCancelled => CancelledAt is not null;

    /// <summary>The batch handlers of <see cref="HandlerIds"/>: their outcome sets count items by ranges (<c>Jobs.OutcomeMembers</c>).</summary>
    public IReadOnlyList<string> BatchHandlerIds { get; init; } = [];

    /// <summary>Whether <paramref name="handlerId"/>'s outcome sets are to be counted by the items their members stand for.</summary>
    public bool CountsItems(string handlerId) => BatchHandlerIds.Contains(handlerId, StringComparer.Ordinal);

    /// <summary>
    /// Whether no more jobs will be dispatched for the run, so it can complete once they all end. A cancelled run's
    /// dispatch has ended once its dispatcher recorded that it stopped, or if it never started.
    /// </summary>
    public bool DispatchEnded => IsCancelled
        ? DispatchFinishedAt is not null || DispatchStartedAt is null
        : Status is Dispatched or Interrupted;
}
