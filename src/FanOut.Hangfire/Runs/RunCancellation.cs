using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

#pragma warning disable FANOUT0001 // The library's own use of its experimental lock seam.

namespace FanOut.Hangfire.Runs;

/// <summary>
/// Cancels runs and deletes their jobs that have not started: a cancel deletes at once those that could start (enqueued,
/// scheduled), and leaves those waiting for a slot, which cannot (the limits pass over a cancelled run's jobs), to the
/// watch of every process (<c>Hosting.CancellationWatch</c>), which deletes them in the background. The storage API has no index of a run's jobs, and none is
/// written at dispatch (it would cost every run a write per job): a run's waiting jobs are found in its own waiting sets,
/// its enqueued and scheduled ones by walking its handlers' queues and the scheduled set through Hangfire's monitoring
/// API, keeping the jobs whose arguments name the run. Waiting jobs, the many when limits hold a run back, are deleted
/// many to a transaction under their limit's lock; enqueued and scheduled ones one by one through the state changer,
/// each under its job's lock, since a worker or the scheduler may be moving it. One process deletes a run's jobs at a
/// time (<see cref="StorageKeys.CancelLock"/>); a job this misses (enqueued while the walk ran, a retry coming due) is
/// deleted by the filter when it moves, or by the next look of the watch.
/// </summary>
internal sealed partial class RunCancellation(
    FanOutRegistry registry,
    HangfireServices hangfire,
    RunStore runs,
    FlowControl flow,
    CancelledRuns cancelled,
    IFanOutLimitLock locks,
    ILogger<RunCancellation> logger)
{
    // Waiting jobs deleted per transaction: the limit's lock is held until it commits, and calls ending wait for it.
    private const int WaitingBatch = 200;

    private const int PageSize = 1_000;

    private static readonly TimeSpan CancelLockTimeout = TimeSpan.FromSeconds(30);

    // A chunk commits in well under this; a lane held longer is held by an execution that stopped mid-chunk.
    private static readonly TimeSpan ChunkLaneWait = TimeSpan.FromSeconds(5);

    public FanOutCancelResult Cancel(string runId, CancellationToken cancellationToken)
    {
        using var connection = hangfire.Storage.GetConnection();
        if (runs.Find(connection, runId) is not { } record)
        {
            return new FanOutCancelResult(runId, FanOutCancelOutcome.NotFound, 0, 0);
        }

        if (!record.IsCancelled && IsComplete(connection, record))
        {
            return new FanOutCancelResult(runId, FanOutCancelOutcome.AlreadyCompleted, 0, 0);
        }

        var outcome = FanOutCancelOutcome.AlreadyCancelled;
        if (!record.IsCancelled)
        {
            using var cancelLock = connection.AcquireDistributedLock(StorageKeys.CancelLock(runId), CancelLockTimeout);
            record = runs.Find(connection, runId) ?? record;
            if (!record.IsCancelled)
            {
                using (var transaction = connection.CreateWriteTransaction())
                {
                    runs.Cancel(transaction, runId);
                    transaction.Commit();
                }

                // A chunk being written holds a lane from its cancel check until it has committed: each checks after this
                // sees the cancel, and each that checked before has committed once both lanes were let go, before the run's
                // jobs are looked for below, so no chunk commits after the cancel returns.
                WaitForChunkLane(runId, 0);
                WaitForChunkLane(runId, 1);
                record = runs.Find(connection, runId) ?? record;
                outcome = FanOutCancelOutcome.Cancelled;
                LogCancelled(runId, record.Name);
            }
        }

        // Known here at once, so no job of the run starts on this process; the calls running here are stopped once the jobs
        // that could start are deleted, so that the workers they free find none of them to fetch. Each of those deletes
        // is under its job's lock, so other processes deleting them too is safe.
        cancelled.Add(runId, stopCalls: false);
        long deleted;
        try
        {
            deleted = DeleteRunnable(record, cancellationToken);
        }
        finally
        {
            cancelled.Add(runId, stopCalls: true);
        }

        return new FanOutCancelResult(runId, outcome, deleted, Waiting(connection, record));
    }

    /// <summary>
    /// Waits for the chunk holding a lane of <see cref="StorageKeys.ChunkLock"/> to commit, up to
    /// <see cref="ChunkLaneWait"/>: a lane held longer is held by an execution of the dispatch that stopped mid-chunk,
    /// and the watch deletes what that chunk enqueues if it ever commits.
    /// </summary>
    private void WaitForChunkLane(string runId, int lane)
    {
        try
        {
            // The lock the dispatch takes the lanes with (the limits' distributed lock).
            locks.Acquire(StorageKeys.ChunkLock(runId, lane), ChunkLaneWait).Dispose();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogChunkLaneHeld(ex, runId, lane);
        }
    }

    /// <summary>
    /// Deletes what is left of a cancelled run's jobs, waiting ones included, unless another process is at it; returns
    /// how many this deleted.
    /// </summary>
    public long Sweep(IStorageConnection connection, RunRecord record, CancellationToken cancellationToken)
    {
        IDisposable sweepLock;
        try
        {
            sweepLock = connection.AcquireDistributedLock(StorageKeys.CancelLock(record.RunId), TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Another process is deleting them.
            return 0;
        }

        using (sweepLock)
        {
            var deleted = DeleteRunnable(record, cancellationToken);
            try
            {
                foreach (var handlerId in record.HandlerIds)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    deleted += DeleteWaiting(connection, record.RunId, handlerId, cancellationToken);
                    deleted += DeletePaused(connection, record.RunId, handlerId, cancellationToken);
                }
            }
            catch (TimeoutException ex)
            {
                // A limit's lock was held too long (a busy storage): the next look goes on with the rest.
                LogDeleteStopped(ex, record.RunId, deleted);
            }

            if (deleted > 0)
            {
                LogDeleted(record.RunId, deleted);
            }

            return deleted;
        }
    }

    /// <summary>Deletes the run's jobs that could start: enqueued, or scheduled (a retry, mostly).</summary>
    private long DeleteRunnable(RunRecord record, CancellationToken cancellationToken)
    {
        var deleted = 0L;
        try
        {
            foreach (var (jobId, from) in Runnable(record))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (hangfire.ChangeState(jobId, CancelledRuns.DeletedFor(record.RunId), from) is DeletedState)
                {
                    deleted++;
                }
            }
        }
        catch (TimeoutException ex)
        {
            // A job's lock or a limit's was held too long (a busy storage): the run stays cancelled, and the watch of
            // every process goes on deleting what is left.
            LogDeleteStopped(ex, record.RunId, deleted);
        }

        return deleted;
    }

    private static long Waiting(IStorageConnection connection, RunRecord record) =>
        record.HandlerIds.Sum(h =>
            RunStore.Outcome(connection, record.RunId, h, RunOutcomesAttribute.Waiting, record.CountsItems(h))
            + RunStore.Outcome(connection, record.RunId, h, RunOutcomesAttribute.Paused, record.CountsItems(h)));

    /// <summary>Deletes the run's jobs waiting for their paused handler: they hold no slot, so each is a state change of its own.</summary>
    private long DeletePaused(IStorageConnection connection, string runId, string handlerId, CancellationToken cancellationToken)
    {
        var deleted = 0L;
        foreach (var jobId in JobIdsIn(connection.GetAllItemsFromSet(StorageKeys.Outcome(runId, handlerId, RunOutcomesAttribute.Paused))))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (hangfire.ChangeState(jobId, CancelledRuns.DeletedFor(runId), FanOutWaitingState.StateName) is DeletedState)
            {
                deleted++;
            }
        }

        return deleted;
    }

    // A run's set holds a batch job once per item: each job once.
    private static List<string> JobIdsIn(IEnumerable<string>? members) =>
        (members ?? []).Select(m => OutcomeMembers.Parse(m).JobId).Distinct(StringComparer.Ordinal).ToList();

    private long DeleteWaiting(IStorageConnection connection, string runId, string handlerId, CancellationToken cancellationToken)
    {
        var waiting = JobIdsIn(connection.GetAllItemsFromSet(StorageKeys.Outcome(runId, handlerId, RunOutcomesAttribute.Waiting)));
        if (waiting.Count == 0)
        {
            return 0;
        }

        var budget = registry.FindHandler(handlerId)?.Limit?.Budget;
        var deleted = 0L;
        foreach (var batch in waiting.Chunk(WaitingBatch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (budget is not null)
            {
                deleted += flow.LeaveWaiting(budget, batch, () => CancelledRuns.DeletedFor(runId));
                continue;
            }

            // The handler has no limit (any more): nothing to keep in step, one by one.
            deleted += batch.Count(jobId => hangfire.ChangeState(jobId, CancelledRuns.DeletedFor(runId), FanOutWaitingState.StateName) is DeletedState);
        }

        return deleted;
    }

    /// <summary>The run's jobs enqueued on its handlers' queues, and scheduled (for a retry, mostly), with their state.</summary>
    private List<(string JobId, string State)> Runnable(RunRecord record)
    {
        var monitoring = hangfire.Storage.GetMonitoringApi();
        var found = new List<(string, string)>();
        var queues = record.HandlerIds
            .Select(id => registry.FindHandler(id)?.Options.Queue)
            .OfType<string>()
            .Append(hangfire.SupportsJobQueue ? null : "default")
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            for (var from = 0; ; from += PageSize)
            {
                var page = monitoring.EnqueuedJobs(queue, from, PageSize);
                found.AddRange(page.Where(j => IsOfRun(j.Value?.Job, record.RunId)).Select(j => (j.Key, EnqueuedState.StateName)));
                if (page.Count < PageSize)
                {
                    break;
                }
            }
        }

        for (var from = 0; ; from += PageSize)
        {
            var page = monitoring.ScheduledJobs(from, PageSize);
            found.AddRange(page.Where(j => IsOfRun(j.Value?.Job, record.RunId)).Select(j => (j.Key, ScheduledState.StateName)));
            if (page.Count < PageSize)
            {
                break;
            }
        }

        return found;
    }

    private bool IsComplete(IStorageConnection connection, RunRecord record) =>
        record.Status == RunRecord.Skipped
        || FanOutRuns.ToRun(connection, record).Status is FanOutRunStatus.Completed or FanOutRunStatus.CompletedWithFailures;

    private static bool IsOfRun(global::Hangfire.Common.Job? job, string runId) =>
        ChildJobs.TryRead(job, out var args) && string.Equals(args.RunId, runId, StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {FanOutRunId} of {FanOutName} cancelled")]
    private partial void LogCancelled(string fanOutRunId, string fanOutName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {FanOutRunId}: deleting its jobs stopped after {Deleted}, waiting for a lock; the watch goes on with the rest")]
    private partial void LogDeleteStopped(Exception exception, string fanOutRunId, long deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {FanOutRunId}: chunk lane {Lane} is held by a dispatch that stopped mid-chunk; the cancel does not wait for it")]
    private partial void LogChunkLaneHeld(Exception exception, string fanOutRunId, int lane);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {FanOutRunId}: deleted {Deleted} jobs that had not started")]
    private partial void LogDeleted(string fanOutRunId, long deleted);
}
