using System.Collections.Concurrent;
using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The flow control of each running application, by the storage its jobs live in: filters are made by Hangfire from
/// attributes, not from DI, so this is how one finds its application's limits. A process hosting several applications
/// (tests do) keeps each one's apart.
/// </summary>
internal static class JobFlows
{
    private static readonly ConcurrentDictionary<JobStorage, IJobFlow> ByStorage = new(ReferenceEqualityComparer.Instance);

    public static IDisposable Register(JobStorage storage, IJobFlow flow)
    {
        ByStorage[storage] = flow;
        return new Registration(storage, flow);
    }

    public static IJobFlow? Find(JobStorage? storage) =>
        storage is not null && ByStorage.TryGetValue(storage, out var flow) ? flow : null;

    private sealed class Registration(JobStorage storage, IJobFlow flow) : IDisposable
    {
        public void Dispose() => ByStorage.TryRemove(new KeyValuePair<JobStorage, IJobFlow>(storage, flow));
    }
}
