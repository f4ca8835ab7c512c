using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>The cancelled runs of each running application, by the storage its jobs live in (see <see cref="StorageBound{T}"/>).</summary>
internal static class JobCancellations
{
    public static IDisposable Register(JobStorage storage, IJobCancellation cancellation) => StorageBound<IJobCancellation>.Register(storage, cancellation);

    public static IJobCancellation? Find(JobStorage? storage) => StorageBound<IJobCancellation>.Find(storage);
}
