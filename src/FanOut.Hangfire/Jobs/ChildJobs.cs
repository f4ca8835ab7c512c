using System.Diagnostics.CodeAnalysis;
using Hangfire.Common;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The library's child jobs of either kind, an item job or a batch job, read as what the filters and the runs API need
/// of one: its handler, its run, and an item whose limit keys it has (a batch's first; its items share them).
/// </summary>
internal static class ChildJobs
{
    public static bool TryRead(Job? job, [NotNullWhen(true)] out ItemJobArgs? args)
    {
        if (ItemJobCodec.Instance.TryRead(job, out args))
        {
            return true;
        }

        args = BatchJobCodec.Instance.TryRead(job, out var batch) ? batch.Lead : null;
        return args is not null;
    }
}
