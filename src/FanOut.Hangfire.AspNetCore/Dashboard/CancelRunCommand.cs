namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The "Cancel" button's POST: cancels the run (<see cref="IFanOutRuns.CancelAsync"/>), deleting its jobs that have not
/// started and stopping its calls.
/// </summary>
internal sealed class CancelRunCommand : RunCommand
{
    protected override Task ExecuteAsync(IFanOutRuns runs, string runId) => runs.CancelAsync(runId, CancellationToken.None);
}
