using FanOut.Hangfire.Registration;
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
/// retry are kept the same way, so a run's page tells them apart from the jobs running or queued. A batch job counts
/// each of its items (<see cref="OutcomeMembers"/>: one member for all of them while they share a state): the items an
/// attempt handled with success join the succeeded set in the state change that ends the attempt, and only the others
/// take the job's new state.
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
        var outcome = OutcomeOf(context.NewState.Name);
        var batch = BatchJobCodec.Instance.TryRead(context.BackgroundJob.Job, out var read) ? read : null;
        if (batch is not null)
        {
            ApplyBatch(context, transaction, batch, outcome);
            return;
        }

        if (outcome is null || !ItemJobCodec.Instance.TryRead(context.BackgroundJob.Job, out var job))
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
            transaction.AddToSet(StorageKeys.Outcome(job.RunId, handlerId, outcome), context.BackgroundJob.Id, DueOf(context.NewState));
            return;
        }

        transaction.AddToSet(StorageKeys.Outcome(job.RunId, handlerId, outcome), context.BackgroundJob.Id);
        Count(outcome, handlerId, 1);
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (OutcomeOf(context.OldStateName) is not { } outcome || !ChildJobs.TryRead(context.BackgroundJob.Job, out var job))
        {
            return;
        }

        var jobId = context.BackgroundJob.Id;
        var batch = BatchJobCodec.Instance.TryRead(context.BackgroundJob.Job, out var read) ? read : null;

        // A batch job's members are those it joined the set with: one for all its items, or one per item still to do.
        var members = batch is null ? [jobId]
            : outcome == Succeeded ? [OutcomeMembers.All(jobId, batch.Count)]
            : MembersOf(jobId, batch, BatchProgress.Read(context.Connection, jobId).Done.Contains);
        // The state's name does not say whether it waited for a limit or for its paused handler: unless the flow control
        // that moves it said it left a limit's line, it leaves both lines.
        var leavesPause = outcome == Waiting && !LimitLineLeaves.IsMarked(jobId);
        foreach (var member in members)
        {
            transaction.RemoveFromSet(StorageKeys.Outcome(job.RunId, job.HandlerId, outcome), member);
            if (leavesPause)
            {
                transaction.RemoveFromSet(StorageKeys.Outcome(job.RunId, job.HandlerId, Paused), member);
            }
        }

        if (leavesPause)
        {
            transaction.RemoveFromSet(StorageKeys.PausedJobs(job.HandlerId), jobId);
        }

        if (batch is not null && outcome == Deleted && transaction is JobStorageTransaction deleted)
        {
            // Back from Deleted (a requeue): what its items did before is needed again.
            deleted.PersistHash(StorageKeys.BatchProgress(jobId));
        }

        if (outcome is not (Waiting or Retrying))
        {
            transaction.AddToSet(StorageKeys.OpenRuns, job.RunId);
        }
    }

    /// <summary>A job's creation time as a set score: Unix milliseconds, with the fraction kept, so jobs keep their order.</summary>
    internal static double CreationOrder(DateTime createdAt) => (createdAt.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond;

    // A batch job: what the attempt that just ended did (handed over in this process, or read back when it was not), the
    // items it handled with success to the succeeded set, and every item without an outcome to the new state's set.
    private static void ApplyBatch(ApplyStateContext context, IWriteOnlyTransaction transaction, BatchJobArgs batch, string? outcome)
    {
        var jobId = context.BackgroundJob.Id;
        var attempt = BatchAttempts.Take(context.Storage, jobId);

        // A job just dispatched has done nothing yet; any other reads what its items did unless its attempt said so.
        IReadOnlySet<int> Stored() => context.OldStateName is null ? BatchOutcomes.None.Done : BatchProgress.Read(context.Connection, jobId).Done;

        if (outcome == Succeeded)
        {
            // Every item has its outcome now: one member for all of them replaces those of items that succeeded before.
            var before = attempt?.DoneBefore ?? Stored();
            foreach (var index in before)
            {
                transaction.RemoveFromSet(StorageKeys.Outcome(batch.RunId, batch.HandlerId, Succeeded), OutcomeMembers.Of(jobId, index));
            }

            transaction.AddToSet(StorageKeys.Outcome(batch.RunId, batch.HandlerId, Succeeded), OutcomeMembers.All(jobId, batch.Count));
            if (attempt is not { HadProgress: false })
            {
                // Written only by an attempt that did not finish the batch, so a first attempt that did has none to remove.
                transaction.RemoveHash(StorageKeys.BatchProgress(jobId));
            }

            // A requeue of the job later runs every item again, as it would an item job.
            Count(Succeeded, batch.HandlerId, batch.Count - before.Count);
            return;
        }

        if (attempt is not null)
        {
            BatchProgress.Write(transaction, jobId, attempt);
            foreach (var index in attempt.Succeeded)
            {
                transaction.AddToSet(StorageKeys.Outcome(batch.RunId, batch.HandlerId, Succeeded), OutcomeMembers.Of(jobId, index));
            }

            Count(Succeeded, batch.HandlerId, attempt.Succeeded.Count);
        }

        if (outcome is null)
        {
            return;
        }

        Func<int, bool> isDone = attempt is not null ? attempt.IsDone : Stored().Contains;
        var members = MembersOf(jobId, batch, isDone);
        var score = 0.0;
        if (context.NewState is FanOutWaitingState { Paused: not null })
        {
            outcome = Paused;
            transaction.AddToSet(StorageKeys.PausedJobs(batch.HandlerId), jobId, CreationOrder(context.BackgroundJob.CreatedAt));
        }
        else if (outcome == Retrying)
        {
            score = DueOf(context.NewState);
        }

        foreach (var member in members)
        {
            transaction.AddToSet(StorageKeys.Outcome(batch.RunId, batch.HandlerId, outcome), member, score);
        }

        if (outcome == Deleted && transaction is JobStorageTransaction expiring && StorageRegistrations.TryGet(context.Storage, out var registry))
        {
            expiring.ExpireHash(StorageKeys.BatchProgress(jobId), registry.Options.RunRetention);
        }

        Count(outcome, batch.HandlerId, members.Sum(m => OutcomeMembers.Parse(m).Count));
    }

    // The members a batch job's items still to do stand as: one for all of them while none has an outcome of its own.
    private static List<string> MembersOf(string jobId, BatchJobArgs batch, Func<int, bool> isDone)
    {
        var remaining = Enumerable.Range(0, batch.Count).Where(i => !isDone(i)).ToList();
        return remaining.Count == batch.Count
            ? [OutcomeMembers.All(jobId, batch.Count)]
            : remaining.Select(i => OutcomeMembers.Of(jobId, i)).ToList();
    }

    private static double DueOf(IState state)
    {
        var due = state is ScheduledState scheduled ? new DateTimeOffset(DateTime.SpecifyKind(scheduled.EnqueueAt, DateTimeKind.Utc)) : DateTimeOffset.UnixEpoch;
        return due.ToUnixTimeMilliseconds();
    }

    private static void Count(string outcome, string handlerId, int items)
    {
        if (items <= 0)
        {
            return;
        }

        if (outcome == Failed)
        {
            FanOutTelemetry.JobsFailed.Add(items, FanOutTelemetry.Tag("fanout.handler", handlerId));
        }
        else if (outcome == Succeeded)
        {
            FanOutTelemetry.JobsSucceeded.Add(items, FanOutTelemetry.Tag("fanout.handler", handlerId));
        }
    }

    private static string? OutcomeOf(string? stateName) =>
        string.Equals(stateName, SucceededState.StateName, StringComparison.OrdinalIgnoreCase) ? Succeeded
        : string.Equals(stateName, FailedState.StateName, StringComparison.OrdinalIgnoreCase) ? Failed
        : string.Equals(stateName, DeletedState.StateName, StringComparison.OrdinalIgnoreCase) ? Deleted
        : FanOutWaitingState.IsWaiting(stateName) ? Waiting
        : string.Equals(stateName, ScheduledState.StateName, StringComparison.OrdinalIgnoreCase) ? Retrying
        : null;
}
