namespace FanOut.Hangfire;

/// <summary>What <see cref="IFanOutRuns.CancelAsync"/> found the run in.</summary>
public enum FanOutCancelOutcome
{
    /// <summary>The run was cancelled by this call.</summary>
    Cancelled = 0,

    /// <summary>The run had been cancelled before; this call deleted what was left of its jobs, if anything.</summary>
    AlreadyCancelled = 1,

    /// <summary>The run had completed (or was a skipped firing): nothing was cancelled.</summary>
    AlreadyCompleted = 2,

    /// <summary>No run has this id, or its record expired.</summary>
    NotFound = 3,
}
