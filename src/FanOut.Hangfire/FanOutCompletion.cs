namespace FanOut.Hangfire;

/// <summary>What a completion handler is told: the completed run, its failed items, and whether it completed before.</summary>
public sealed class FanOutCompletion
{
    internal FanOutCompletion(FanOutRun run, IReadOnlyList<FanOutFailedItem> failedItems, int completion)
    {
        Run = run;
        FailedItems = failedItems;
        Completion = completion;
    }

    /// <summary>Gets the run, with its counts as of its completion.</summary>
    public FanOutRun Run { get; }

    /// <summary>Gets the jobs that failed with no retries left (up to the first 1,000).</summary>
    public IReadOnlyList<FanOutFailedItem> FailedItems { get; }

    /// <summary>Gets which completion this is: 1 the first time, more after failed jobs were retried and ended again.</summary>
    public int Completion { get; }

    /// <summary>Gets whether the run had completed before and was reopened by a retry of its failed jobs.</summary>
    public bool IsRecompletion => Completion > 1;

    /// <summary>
    /// Gets whether the run was cancelled (<see cref="IFanOutRuns.CancelAsync"/>): its jobs that had not started were
    /// deleted and count in <see cref="FanOutRun.Deleted"/>.
    /// </summary>
    public bool IsCancelled => Run.Status == FanOutRunStatus.Cancelled;

    /// <summary>Gets how long the run took from the start of its dispatch to this completion.</summary>
    public TimeSpan? Duration => Run.CompletedAt - Run.DispatchStartedAt;
}
