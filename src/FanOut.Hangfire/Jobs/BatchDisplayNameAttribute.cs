using System.Globalization;
using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Jobs;

/// <summary>Names a batch job in Hangfire's dashboard: <c>{handlerId} · {n} items ({first key} …)</c>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class BatchDisplayNameAttribute() : JobDisplayNameAttribute("{0}")
{
    public override string Format(DashboardContext context, Job job) => Of(job) ?? base.Format(context, job);

    internal static string? Of(Job job) =>
        BatchJobCodec.Instance.TryRead(job, out var batch)
            ? string.Create(CultureInfo.InvariantCulture, $"{batch.HandlerId} · {batch.Count} {(batch.Count == 1 ? "item" : "items")} ({batch.ItemKeys[0]}{(batch.Count > 1 ? " …" : string.Empty)})")
            : null;
}
