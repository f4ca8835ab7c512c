namespace FanOut.Hangfire.Dashboard;

/// <summary>The "Retry failed" button's POST: requeues every job of the run that failed with no retries left.</summary>
internal sealed class RetryFailedCommand : RunCommand
{
    protected override Task ExecuteAsync(IFanOutRuns runs, string runId) => runs.RetryFailedAsync(runId, CancellationToken.None);
}
