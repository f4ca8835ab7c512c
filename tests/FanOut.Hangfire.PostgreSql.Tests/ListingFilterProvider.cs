using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// A global filter that lists, in <see cref="List"/>, each job moved to a <typeparamref name="TState"/>: a write (to a
/// list) the fast path does not make, so the work that makes it falls back to the generic path.
/// </summary>
internal sealed class ListingFilterProvider<TState>(string list) : IJobFilterProvider, IApplyStateFilter
    where TState : IState
{
    public string List { get; } = list;

    public IEnumerable<JobFilter> GetFilters(Job job) =>
        JobFilterProviders.Providers.GetFilters(job).Append(new JobFilter(this, JobFilterScope.Global, null));

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState is TState)
        {
            transaction.InsertToList(List, context.BackgroundJob.Id);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
