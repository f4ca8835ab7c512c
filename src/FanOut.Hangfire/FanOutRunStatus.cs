namespace FanOut.Hangfire;

/// <summary>Where a run stands.</summary>
public enum FanOutRunStatus
{
    /// <summary>Items are still being dispatched into jobs.</summary>
    Dispatching = 0,

    /// <summary>Every item is dispatched; some jobs are not in a final state yet.</summary>
    Running = 1,

    /// <summary>Every job of the run is in a final state: succeeded, failed with no retries left, or deleted.</summary>
    Completed = 2,

    /// <summary>A cron firing found the previous dispatch of its fan-out still running and dispatched nothing.</summary>
    Skipped = 3,

    /// <summary>A streamed send stopped part-way; the items sent before stay sent and the run completes with them.</summary>
    Interrupted = 4,
}
