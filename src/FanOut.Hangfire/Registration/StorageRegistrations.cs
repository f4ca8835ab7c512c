using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Hangfire;

namespace FanOut.Hangfire.Registration;

/// <summary>
/// Hangfire instantiates job filter attributes itself, outside DI; this is how the retry filter finds the handlers
/// declared for the storage it is working on. Keyed by storage instance, so several hosts in one process stay apart.
/// </summary>
internal static class StorageRegistrations
{
    private static readonly ConditionalWeakTable<JobStorage, FanOutRegistry> Registries = new();

    public static void Attach(JobStorage storage, FanOutRegistry registry) => Registries.AddOrUpdate(storage, registry);

    public static bool TryGet(JobStorage storage, [NotNullWhen(true)] out FanOutRegistry? registry) =>
        Registries.TryGetValue(storage, out registry);
}
