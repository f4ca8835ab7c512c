namespace FanOut.Hangfire;

/// <summary>What <see cref="IFanOutRuns.CancelAsync"/> did.</summary>
public sealed class FanOutCancelResult
{
    internal FanOutCancelResult(string runId, FanOutCancelOutcome outcome, long jobsDeleted, long jobsWaiting)
    {
        JobsWaiting = jobsWaiting;
        RunId = runId;
        Outcome = outcome;
        JobsDeleted = jobsDeleted;
    }

    /// <summary>Gets the run's id.</summary>
    public string RunId { get; }

    /// <summary>Gets whether the run was cancelled by this call, was already, had completed, or was not found.</summary>
    public FanOutCancelOutcome Outcome { get; }

    /// <summary>
    /// Gets how many jobs of the run this call deleted: those that could start, enqueued or scheduled (a retry). A job
    /// that becomes runnable later (a chunk that committed while the cancel did, a call that ends) is deleted by the
    /// server that sees it, and counted in the run's <see cref="FanOutRun.Deleted"/>, as these are.
    /// </summary>
    public long JobsDeleted { get; }

    /// <summary>
    /// Gets how many jobs of the run were waiting for a slot of a limit, a throttled start or their paused handler when this call returned. They
    /// cannot start any more (the limits pass over a cancelled run's jobs); every server's watch deletes them in the
    /// background, many to a transaction, and the run completes once they are gone.
    /// </summary>
    public long JobsWaiting { get; }

    /// <summary>Gets whether the run is cancelled now, by this call or an earlier one.</summary>
    public bool IsCancelled => Outcome is FanOutCancelOutcome.Cancelled or FanOutCancelOutcome.AlreadyCancelled;
}
