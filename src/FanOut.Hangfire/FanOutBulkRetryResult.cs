namespace FanOut.Hangfire;

/// <summary>What <see cref="IFanOutRuns.RetryFailedRunsAsync"/> did: the runs it looked at, and the failed jobs it requeued.</summary>
public sealed class FanOutBulkRetryResult
{
    internal FanOutBulkRetryResult(int runsExamined, int runsRetried, int jobsRequeued)
    {
        RunsExamined = runsExamined;
        RunsRetried = runsRetried;
        JobsRequeued = jobsRequeued;
    }

    /// <summary>Gets how many runs of the fan-out or event started in the time range.</summary>
    public int RunsExamined { get; }

    /// <summary>Gets how many of those runs had failed jobs requeued, and so reopened.</summary>
    public int RunsRetried { get; }

    /// <summary>Gets how many failed jobs were requeued, over every run.</summary>
    public int JobsRequeued { get; }
}
