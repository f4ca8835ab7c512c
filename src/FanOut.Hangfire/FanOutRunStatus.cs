namespace FanOut.Hangfire;

/// <summary>Where a run stands.</summary>
public enum FanOutRunStatus
{
    /// <summary>Items are still being dispatched into jobs.</summary>
    Dispatching = 0,

    /// <summary>Every item is dispatched; some jobs are not in a final state yet.</summary>
    Running = 1,

    /// <summary>
    /// Every job of the run is in a final state, and none failed: each succeeded or was deleted. A run whose jobs
    /// include failures completes as <see cref="CompletedWithFailures"/> instead.
    /// </summary>
    Completed = 2,

    /// <summary>
    /// A cron firing dispatched nothing: the previous dispatch of its fan-out still ran, or the fan-out was paused
    /// (<see cref="FanOutRun.SkipReason"/> says which).
    /// </summary>
    Skipped = 3,

    /// <summary>A streamed send stopped part-way; the items sent before stay sent and the run completes with them.</summary>
    Interrupted = 4,

    /// <summary>Triggered: the run's dispatch job is enqueued and has not started dispatching yet.</summary>
    Pending = 5,

    /// <summary>Every job of the run is in a final state, and some failed with no retries left (see <see cref="FanOutRun.Failed"/>).</summary>
    CompletedWithFailures = 6,

    /// <summary>
    /// Cancelled through <see cref="IFanOutRuns.CancelAsync"/>: its dispatch stopped, its jobs that had not started were
    /// deleted, and its running calls were told to stop. It completes (see <see cref="FanOutRun.CompletedAt"/>) once its
    /// last call has ended; the counts then say what ran before the cancel.
    /// </summary>
    Cancelled = 7,
}
