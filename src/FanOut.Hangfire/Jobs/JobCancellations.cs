using System.Collections.Concurrent;
using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The cancelled runs of each running application, by the storage its jobs live in, for the filter Hangfire creates
/// from an attribute (as <see cref="JobFlows"/> does for limits).
/// </summary>
internal static class JobCancellations
{
    private static readonly ConcurrentDictionary<JobStorage, IJobCancellation> ByStorage = new(ReferenceEqualityComparer.Instance);

    public static IDisposable Register(JobStorage storage, IJobCancellation cancellation)
    {
        ByStorage[storage] = cancellation;
        return new Registration(storage, cancellation);
    }

    public static IJobCancellation? Find(JobStorage? storage) =>
        storage is not null && ByStorage.TryGetValue(storage, out var cancellation) ? cancellation : null;

    private sealed class Registration(JobStorage storage, IJobCancellation cancellation) : IDisposable
    {
        public void Dispose() => ByStorage.TryRemove(new KeyValuePair<JobStorage, IJobCancellation>(storage, cancellation));
    }
}
