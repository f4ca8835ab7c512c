using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>The flow control of each running application, by the storage its jobs live in (see <see cref="StorageBound{T}"/>).</summary>
internal static class JobFlows
{
    public static IDisposable Register(JobStorage storage, IJobFlow flow) => StorageBound<IJobFlow>.Register(storage, flow);

    public static IJobFlow? Find(JobStorage? storage) => StorageBound<IJobFlow>.Find(storage);
}
