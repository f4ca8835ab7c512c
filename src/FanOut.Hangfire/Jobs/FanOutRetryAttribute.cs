using FanOut.Hangfire.Registration;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// Applies each handler's retry policy (and the dispatch's) with Hangfire's own <see cref="AutomaticRetryAttribute"/>,
/// so retries look and behave exactly like Hangfire's. The library's job methods also carry
/// <c>[AutomaticRetry(Attempts = 0)]</c>, which overrides the global retry filter for them; this filter runs after it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class FanOutRetryAttribute : JobFilterAttribute, IElectStateFilter
{
    private static readonly AutomaticRetryAttribute Fallback = new();

    public FanOutRetryAttribute() => Order = 21;

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState failed || failed.Exception is LimitKeyException)
        {
            // A bad limit key is not retried: the same item gives the same key again.
            return;
        }

        PolicyFor(context).OnStateElection(context);
    }

    private static AutomaticRetryAttribute PolicyFor(ElectStateContext context)
    {
        var job = context.BackgroundJob.Job;
        if (job is null || !StorageRegistrations.TryGet(context.Storage, out var registry))
        {
            return Fallback;
        }

        if (job.Type == typeof(FanOutDispatchJob))
        {
            return registry.DispatchRetry;
        }

        return ChildJobs.TryRead(job, out var args) && registry.FindHandler(args.HandlerId) is { } handler
            ? handler.Retry
            : Fallback;
    }
}
