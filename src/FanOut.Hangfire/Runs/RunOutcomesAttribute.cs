using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// Keeps a run's counts exact: when a child job enters or leaves a final state (succeeded, failed with no retries left,
/// deleted), the run's counter for its handler moves in the same storage transaction as the state change. Leaving a
/// final state (a requeue from the dashboard, a retry of failed items) reopens the run.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class RunOutcomesAttribute : JobFilterAttribute, IApplyStateFilter
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Deleted = "deleted";

    private static readonly TimeSpan DefaultRetention = new FanOutOptions().RunRetention;

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (OutcomeOf(context.NewState.Name) is not { } outcome || !TryRead(context.BackgroundJob.Job, out var handlerId, out var runId))
        {
            return;
        }

        transaction.IncrementCounter(RunKeys.Outcome(runId, handlerId, outcome), RetentionFor(context.Storage));
        if (outcome == Failed)
        {
            transaction.AddToSet(RunKeys.Failed(runId), context.BackgroundJob.Id, DateTime.UtcNow.Ticks);
            FanOutTelemetry.JobsFailed.Add(1, FanOutTelemetry.Tag("fanout.handler", handlerId));
        }
        else if (outcome == Succeeded)
        {
            FanOutTelemetry.JobsSucceeded.Add(1, FanOutTelemetry.Tag("fanout.handler", handlerId));
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (OutcomeOf(context.OldStateName) is not { } outcome || !TryRead(context.BackgroundJob.Job, out var handlerId, out var runId))
        {
            return;
        }

        transaction.DecrementCounter(RunKeys.Outcome(runId, handlerId, outcome), RetentionFor(context.Storage));
        if (outcome == Failed)
        {
            transaction.RemoveFromSet(RunKeys.Failed(runId), context.BackgroundJob.Id);
        }

        transaction.AddToSet(RunKeys.Open, runId);
    }

    private static string? OutcomeOf(string? stateName) =>
        string.Equals(stateName, SucceededState.StateName, StringComparison.OrdinalIgnoreCase) ? Succeeded
        : string.Equals(stateName, FailedState.StateName, StringComparison.OrdinalIgnoreCase) ? Failed
        : string.Equals(stateName, DeletedState.StateName, StringComparison.OrdinalIgnoreCase) ? Deleted
        : null;

    private static bool TryRead(Job? job, out string handlerId, out string runId)
    {
        if (job is { Args.Count: > 1 } && job.Args[0] is string handler && job.Args[1] is string run)
        {
            handlerId = handler;
            runId = run;
            return true;
        }

        handlerId = runId = string.Empty;
        return false;
    }

    private static TimeSpan RetentionFor(global::Hangfire.JobStorage storage) =>
        StorageRegistrations.TryGet(storage, out var registry) ? registry.Options.RunRetention : DefaultRetention;
}
