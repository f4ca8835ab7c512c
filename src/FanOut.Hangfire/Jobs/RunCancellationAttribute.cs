using Hangfire.Common;
using Hangfire.States;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// Deletes a cancelled run's job instead of letting it run: a state change that would enqueue it, start it, schedule
/// its retry or make it wait for a slot ends in Deleted. It runs after the retry filter (which turns a failure into a
/// scheduled retry) and before the limit filter, which then sees a job leaving and lets its slot go. For a run that is
/// not cancelled it costs a lookup in memory.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class RunCancellationAttribute : JobFilterAttribute, IElectStateFilter
{
    public RunCancellationAttribute() => Order = 9_000;

    public void OnStateElection(ElectStateContext context)
    {
        if (JobCancellations.Find(context.Storage) is { } cancellation && ChildJobs.TryRead(context.BackgroundJob.Job, out var job))
        {
            cancellation.OnStateElection(context, job);
        }
    }
}
