using System.Reflection;
using Hangfire;
using Hangfire.Common;

namespace FanOut.Hangfire.Storage;

/// <summary>
/// Hangfire's filter lookup for the jobs of one dispatch chunk: the filters of a job's type and method are looked up once
/// for the chunk instead of twice per job (Hangfire's job factory and its state machine each ask, and each sorts the
/// filters anew). Only Hangfire's own providers are cached, whose answer depends on nothing but the job's type and method
/// (global filters, and filter attributes of the type and method); any other provider may look at a job's arguments, and
/// is asked for every job as usual (<see cref="For"/> returns it unchanged).
/// </summary>
internal sealed class ChunkFilterCache : IJobFilterProvider
{
    private readonly IJobFilterProvider _inner;
    private readonly Dictionary<(Type Type, MethodInfo Method), List<JobFilter>> _filters = [];

    private ChunkFilterCache(IJobFilterProvider inner) => _inner = inner;

    /// <summary>A cache for one chunk over <paramref name="provider"/>, or <paramref name="provider"/> itself when it cannot be cached.</summary>
    public static IJobFilterProvider For(IJobFilterProvider provider) =>
        provider is JobFilterProviderCollection collection && collection.All(IsHangfireOwn) ? new ChunkFilterCache(provider) : provider;

    public IEnumerable<JobFilter> GetFilters(Job job)
    {
        if (job is null)
        {
            return _inner.GetFilters(job!);
        }

        var key = (job.Type, job.Method);
        if (!_filters.TryGetValue(key, out var filters))
        {
            filters = [.. _inner.GetFilters(job)];
            _filters.Add(key, filters);
        }

        // Hangfire's consumers only read the list (JobFilterInfo takes a List<JobFilter> as it is).
        return filters;
    }

    private static bool IsHangfireOwn(IJobFilterProvider provider) =>
        provider.GetType() == typeof(JobFilterCollection) || provider.GetType() == typeof(JobFilterAttributeFilterProvider);
}
