using Hangfire.States;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The port through which <see cref="FlowControlAttribute"/> reaches the flow control of the application whose storage a
/// job lives in (<c>Flow.FlowControl</c>), found through <see cref="JobFlows"/>.
/// </summary>
internal interface IJobFlow
{
    /// <summary>Decides a child job's state change under its limit: admit, make wait, let a slot go.</summary>
    void OnStateElection(ElectStateContext context, ItemJobArgs job);

    /// <summary>A call of a child job starts on this process.</summary>
    void OnPerforming(string jobId, ItemJobArgs job, string serverId);

    /// <summary>A call of a child job ended on this process, whichever way.</summary>
    void OnPerformed(string jobId, ItemJobArgs job);
}
