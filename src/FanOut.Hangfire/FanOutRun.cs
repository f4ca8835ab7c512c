namespace FanOut.Hangfire;

/// <summary>A run (one cron firing, trigger or send) with its dispatch progress and per-handler counts.</summary>
public sealed class FanOutRun
{
    internal FanOutRun(
        string runId,
        FanOutRunKind kind,
        string name,
        string eventName,
        FanOutRunStatus status,
        DateTimeOffset? dispatchStartedAt,
        DateTimeOffset? dispatchFinishedAt,
        DateTimeOffset? completedAt,
        int completions,
        long dispatchedItems,
        IReadOnlyList<FanOutHandlerProgress> handlers,
        string? skipReason = null)
    {
        SkipReason = skipReason;
        RunId = runId;
        Kind = kind;
        Name = name;
        EventName = eventName;
        Status = status;
        DispatchStartedAt = dispatchStartedAt;
        DispatchFinishedAt = dispatchFinishedAt;
        CompletedAt = completedAt;
        Completions = completions;
        DispatchedItems = dispatchedItems;
        Handlers = handlers;
    }

    /// <summary>Gets the run's id.</summary>
    public string RunId { get; }

    /// <summary>Gets what started the run.</summary>
    public FanOutRunKind Kind { get; }

    /// <summary>Gets the cron fan-out id (for a cron run) or the event name (for a send).</summary>
    public string Name { get; }

    /// <summary>Gets the event the items were sent as.</summary>
    public string EventName { get; }

    /// <summary>Gets where the run stands.</summary>
    public FanOutRunStatus Status { get; }

    /// <summary>
    /// Gets why a <see cref="FanOutRunStatus.Skipped"/> run dispatched nothing: <c>overlap</c> (the previous dispatch of
    /// its fan-out still ran) or <c>paused</c> (its fan-out was paused, see <see cref="IFanOutControl"/>); null for a run
    /// that was not skipped.
    /// </summary>
    public string? SkipReason { get; }

    /// <summary>
    /// Gets when the run was triggered: a manual trigger's call, a cron firing's dispatch job created, or a send's start;
    /// null for a skipped firing, or a run recorded by a version that did not keep it.
    /// </summary>
    public DateTimeOffset? TriggeredAt { get; internal init; }

    /// <summary>
    /// Gets whether the run was started by a manual trigger (<see cref="IFanOutClient.TriggerAsync(string, CancellationToken)"/>)
    /// rather than by a firing of its recurring job (its schedule, or Hangfire's "Trigger now") or a send.
    /// </summary>
    public bool IsManualTrigger { get; internal init; }

    /// <summary>Gets when the dispatch started.</summary>
    public DateTimeOffset? DispatchStartedAt { get; }

    /// <summary>Gets when the dispatch finished, or null while it runs.</summary>
    public DateTimeOffset? DispatchFinishedAt { get; }

    /// <summary>Gets when the run last completed, or null if it has not.</summary>
    public DateTimeOffset? CompletedAt { get; }

    /// <summary>Gets how many times the run completed: more than once when failed jobs were retried after completion.</summary>
    public int Completions { get; }

    /// <summary>Gets how many items were dispatched.</summary>
    public long DispatchedItems { get; }

    /// <summary>Gets the progress of each handler of the run's event.</summary>
    public IReadOnlyList<FanOutHandlerProgress> Handlers { get; }

    /// <summary>Gets how many jobs were dispatched, over every handler.</summary>
    public long DispatchedJobs => Handlers.Sum(h => h.Dispatched);

    /// <summary>Gets how many jobs succeeded, over every handler.</summary>
    public long Succeeded => Handlers.Sum(h => h.Succeeded);

    /// <summary>Gets how many jobs failed with no retries left, over every handler.</summary>
    public long Failed => Handlers.Sum(h => h.Failed);

    /// <summary>Gets how many jobs were deleted, over every handler.</summary>
    public long Deleted => Handlers.Sum(h => h.Deleted);

    /// <summary>Gets how many jobs are not in a final state yet, over every handler.</summary>
    public long InFlight => Handlers.Sum(h => h.InFlight);

    /// <summary>Gets how many jobs failed an attempt and wait for their next one, over every handler (part of <see cref="InFlight"/>).</summary>
    public long Retrying => Handlers.Sum(h => h.Retrying);

    /// <summary>Gets when the earliest job waiting for a retry is due to run again, over every handler, or null when none waits.</summary>
    public DateTimeOffset? NextRetryAt => Handlers.Min(h => h.NextRetryAt);

    /// <summary>Gets how long the dispatch took, once it finished.</summary>
    public TimeSpan? DispatchDuration => DispatchFinishedAt - DispatchStartedAt;
}
