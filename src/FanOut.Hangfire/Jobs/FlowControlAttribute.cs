using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// Puts a child job's state changes and calls under its handler's limits (<c>Flow.FlowControl</c> decides). It runs
/// after every other election filter (the retry filters included), so it sees the state a change would really end in.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class FlowControlAttribute : JobFilterAttribute, IElectStateFilter, IServerFilter
{
    public FlowControlAttribute() => Order = 10_000;

    public void OnStateElection(ElectStateContext context)
    {
        if (JobFlows.Find(context.Storage) is { } flow && ChildJobs.TryRead(context.BackgroundJob.Job, out var job))
        {
            flow.OnStateElection(context, job);
        }
    }

    public void OnPerforming(PerformingContext context)
    {
        if (JobFlows.Find(context.Storage) is { } flow && ChildJobs.TryRead(context.BackgroundJob.Job, out var job))
        {
            flow.OnPerforming(context.BackgroundJob.Id, job, context.ServerId);
        }
    }

    public void OnPerformed(PerformedContext context)
    {
        if (JobFlows.Find(context.Storage) is { } flow && ChildJobs.TryRead(context.BackgroundJob.Job, out var job))
        {
            flow.OnPerformed(context.BackgroundJob.Id, job);
        }
    }
}
