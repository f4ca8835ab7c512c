using Hangfire.States;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The port through which <see cref="RunCancellationAttribute"/> and the limits learn which runs are cancelled
/// (<c>Runs.CancelledRuns</c>), found by storage through <see cref="JobCancellations"/>. Answered from what this process
/// read last (every second), never with a storage call.
/// </summary>
internal interface IJobCancellation
{
    /// <summary>Whether the run is known here to be cancelled.</summary>
    bool IsCancelled(string runId);

    /// <summary>The state a cancelled run's job is moved to instead of running.</summary>
    IState Deleted(string runId);

    /// <summary>Makes a state change of a cancelled run's job that would let it run (or wait to) delete it instead.</summary>
    void OnStateElection(ElectStateContext context, ItemJobArgs job);
}
