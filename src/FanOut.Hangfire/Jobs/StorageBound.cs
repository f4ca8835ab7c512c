using System.Collections.Concurrent;
using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// One service of each running application, by the storage its jobs live in: filters are made by Hangfire from
/// attributes, not from DI, so this is how one finds its application's parts. A process hosting several applications
/// (tests do) keeps each one's apart.
/// </summary>
internal static class StorageBound<T>
    where T : class
{
    private static readonly ConcurrentDictionary<JobStorage, T> ByStorage = new(ReferenceEqualityComparer.Instance);

    public static IDisposable Register(JobStorage storage, T service)
    {
        ByStorage[storage] = service;
        return new Registration(storage, service);
    }

    public static T? Find(JobStorage? storage) =>
        storage is not null && ByStorage.TryGetValue(storage, out var service) ? service : null;

    private sealed class Registration(JobStorage storage, T service) : IDisposable
    {
        public void Dispose() => ByStorage.TryRemove(new KeyValuePair<JobStorage, T>(storage, service));
    }
}
