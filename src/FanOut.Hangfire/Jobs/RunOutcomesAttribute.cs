using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// Keeps a run's counts exact: when a child job enters or leaves a final state (succeeded, failed with no retries left,
/// deleted), its id joins or leaves the run's set for that handler and outcome, in the same storage transaction as the
/// state change. Sets, not Hangfire counters: membership is idempotent, and counters are summed by background
/// aggregation that some storages do not keep exact under concurrency. Leaving a final state (a requeue from the
/// dashboard, a retry of failed items) reopens the run. The jobs waiting for a slot and those waiting for their next
/// retry are kept the same way, so a run's page tells them apart from the jobs running or queued.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class RunOutcomesAttribute : JobFilterAttribute, IApplyStateFilter
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Deleted = "deleted";

    /// <summary>Not an outcome but a count kept the same way: the jobs waiting for a slot of their limit or a throttled start.</summary>
    public const string Waiting = "waiting";

    /// <summary>Not an outcome either: the jobs waiting because their handler is paused, kept apart from <see cref="Waiting"/>.</summary>
    public const string Paused = "paused";
    /// <summary>
    /// Not an outcome either: the jobs that failed an attempt and wait for their next one, scheduled by their retry policy
    /// (nothing else schedules a child job), scored by when it is due (Unix milliseconds).
    /// </summary>
    public const string Retrying = "retrying";

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (OutcomeOf(context.NewState.Name) is not { } outcome || !ItemJobCodec.Instance.TryRead(context.BackgroundJob.Job, out var job))
        {
            return;
        }

        var handlerId = job.HandlerId;
        if (context.NewState is FanOutWaitingState { Paused: not null })
        {
            // In the handler's line too, oldest job first, whichever way it came to wait (dispatched, fetched, retried).
            outcome = Paused;
            transaction.AddToSet(StorageKeys.PausedJobs(handlerId), context.BackgroundJob.Id, CreationOrder(context.BackgroundJob.CreatedAt));
        }
        else if (outcome == Retrying)
        {
            var due = context.NewState is ScheduledState scheduled ? new DateTimeOffset(DateTime.SpecifyKind(scheduled.EnqueueAt, DateTimeKind.Utc)) : DateTimeOffset.UnixEpoch;
            transaction.AddToSet(StorageKeys.Outcome(job.RunId, handlerId, outcome), context.BackgroundJob.Id, due.ToUnixTimeMilliseconds());
            return;
        }

        transaction.AddToSet(StorageKeys.Outcome(job.RunId, handlerId, outcome), context.BackgroundJob.Id);
        if (outcome == Failed)
        {
            FanOutTelemetry.JobsFailed.Add(1, FanOutTelemetry.Tag("fanout.handler", handlerId));
        }
        else if (outcome == Succeeded)
        {
            FanOutTelemetry.JobsSucceeded.Add(1, FanOutTelemetry.Tag("fanout.handler", handlerId));
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (OutcomeOf(context.OldStateName) is not { } outcome || !ItemJobCodec.Instance.TryRead(context.BackgroundJob.Job, out var job))
        {
            return;
        }

        transaction.RemoveFromSet(StorageKeys.Outcome(job.RunId, job.HandlerId, outcome), context.BackgroundJob.Id);
        if (outcome == Waiting)
        {
            // The state's name does not say whether it waited for a limit or for its paused handler: leave both lines.
            transaction.RemoveFromSet(StorageKeys.Outcome(job.RunId, job.HandlerId, Paused), context.BackgroundJob.Id);
            transaction.RemoveFromSet(StorageKeys.PausedJobs(job.HandlerId), context.BackgroundJob.Id);
        }

        if (outcome is not (Waiting or Retrying))
        {
            transaction.AddToSet(StorageKeys.OpenRuns, job.RunId);
        }
    }

    /// <summary>A job's creation time as a set score: Unix milliseconds, with the fraction kept, so jobs keep their order.</summary>
    internal static double CreationOrder(DateTime createdAt) => (createdAt.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond;

    private static string? OutcomeOf(string? stateName) =>
        string.Equals(stateName, SucceededState.StateName, StringComparison.OrdinalIgnoreCase) ? Succeeded
        : string.Equals(stateName, FailedState.StateName, StringComparison.OrdinalIgnoreCase) ? Failed
        : string.Equals(stateName, DeletedState.StateName, StringComparison.OrdinalIgnoreCase) ? Deleted
        : FanOutWaitingState.IsWaiting(stateName) ? Waiting
        : string.Equals(stateName, ScheduledState.StateName, StringComparison.OrdinalIgnoreCase) ? Retrying
        : null;
}
