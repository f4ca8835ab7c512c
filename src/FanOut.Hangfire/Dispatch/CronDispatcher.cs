using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// One cron firing (or manual trigger) of a fan-out: takes the fan-out's lease, streams the source from the run's last
/// checkpoint, and records the run. Runs inside the dispatch job, so a failure is retried by Hangfire as the same run.
/// </summary>
internal sealed partial class CronDispatcher(
    FanOutRegistry registry,
    HangfireServices hangfire,
    RunStore runs,
    DispatchLease lease,
    RunDispatcher dispatcher,
    Pauses pauses,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<CronDispatcher> logger) : IDispatchJobExecutor
{
    public async Task<string> DispatchAsync(DispatchJobArgs args, PerformContext? context, CancellationToken cancellationToken)
    {
        var (fanOutId, triggeredRunId) = (args.FanOutId, args.RunId);
        var cron = registry.FindCron(fanOutId);
        if (cron is null || !cron.Options.Enabled)
        {
            LogNotDeclared(fanOutId);
            return $"Cron fan-out '{fanOutId}' is not declared or is disabled in this application; nothing dispatched.";
        }

        var (runId, isNewFiring) = RunIdOf(triggeredRunId, context);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["FanOutId"] = fanOutId, ["FanOutRunId"] = runId });

        RunRecord? record;
        bool paused;
        using (var connection = hangfire.Storage.GetConnection())
        {
            record = runs.Find(connection, runId);

            // Only a new firing is skipped: a manual trigger runs (that is how a skipped firing is run later), and so does
            // a retry or a resume of a run that started before the pause.
            paused = isNewFiring && pauses.IsCronPausedNow(connection, cron.Id);
        }

        // A cancelled run whose dispatch may still be running elsewhere waits for the lease, and records the stop under it.
        if (record?.Status is RunRecord.Dispatched or RunRecord.Skipped || record is { IsCancelled: true, DispatchEnded: true })
        {
            return AlreadyDone(record);
        }

        if (paused)
        {
            return SkippedPaused(cron, runId);
        }

        var owner = DispatchLease.NewOwner(runId);
        var (holder, skip) = await AcquireAsync(cron, owner, isNewFiring, cancellationToken).ConfigureAwait(false);
        if (holder is not null)
        {
            return Overlapped(cron, runId, DispatchLease.RunOf(holder), skip);
        }

        using var activity = FanOutTelemetry.StartDispatch(cron.Id, cron.EventName, runId);
        try
        {
            // Read again under the lease: an execution this one took over may have committed since the first read.
            using (var connection = hangfire.Storage.GetConnection())
            {
                record = runs.Find(connection, runId);
            }

            if (record?.Status is RunRecord.Dispatched)
            {
                return AlreadyDone(record);
            }

            if (record?.IsCancelled == true)
            {
                return Cancelled(runId, record.DispatchedItems);
            }

            return await DispatchHoldingLeaseAsync(cron, runId, owner, record, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            lease.Release(fanOutId, owner);
        }
    }

    private async Task<string> DispatchHoldingLeaseAsync(
        RegisteredCron cron,
        string runId,
        string owner,
        RunRecord? record,
        PerformContext? context,
        CancellationToken cancellationToken)
    {
        var @event = registry.FindEvent(cron.EventName)!;

        // Every attempt reads the time the run was first triggered, whichever job carries it: the firing's own job, or a
        // resume enqueued later for the same run (records of earlier versions did not keep it; their job's is the best).
        var triggeredAt = record?.TriggeredAt ?? (context?.BackgroundJob.CreatedAt is { } createdAt
            ? new DateTimeOffset(DateTime.SpecifyKind(createdAt, DateTimeKind.Utc))
            : time.GetUtcNow());
        if (record is null || record.Status == RunRecord.Pending)
        {
            using var connection = hangfire.Storage.GetConnection();
            using var transaction = connection.CreateWriteTransaction();
            runs.Start(transaction, runId, RunRecord.CronKind, cron.Id, cron.EventName, @event.Handlers.Select(h => h.Id), record, triggeredAt, @event.BatchHandlerIds);
            transaction.Commit();
            record = null;
        }

        var resumeFrom = record?.Checkpoint ?? DispatchCheckpoint.Start;
        if (resumeFrom.Items > 0)
        {
            LogResuming(cron.Id, runId, resumeFrom.Items);
        }

        using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopKeeping = new CancellationTokenSource();
        var keeper = lease.KeepAsync(cron.Id, owner, leaseLost, stopKeeping.Token);
        var started = time.GetTimestamp();
        DispatchCheckpoint done;
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using var scopeDisposal = scope.ConfigureAwait(false);
            var sourceContext = new FanOutSourceContext(cron.Id, cron.EventName, runId, triggeredAt);
            var items = cron.Source.ReadAsync(scope.ServiceProvider, sourceContext, registry.EncoderFor(@event), leaseLost.Token);
            done = await dispatcher.DispatchAsync(
                runId,
                @event,
                items,
                resumeFrom,
                lease.GuardFor(cron.Id, owner),
                committed: null,
                leaseLost.Token).ConfigureAwait(false);
        }
        catch (RunCancelledException)
        {
            return Cancelled(runId, ReadCheckpoint(runId).Items);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"Cron fan-out '{cron.Id}', source {cron.SourceType.Name}: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (ex is not DispatchSupersededException && leaseLost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            lease.EnsureHeld(cron.Id, owner);
            throw new InvalidOperationException(
                $"Cron fan-out '{cron.Id}': run {runId} lost its dispatch lease and stopped; it resumes from its checkpoint when retried.", ex);
        }
        finally
        {
            await stopKeeping.CancelAsync().ConfigureAwait(false);
            await keeper.ConfigureAwait(false);
        }

        using (var connection = hangfire.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            runs.FinishDispatch(transaction, runId, RunRecord.Dispatched);
            transaction.Commit();
        }

        var elapsed = time.GetElapsedTime(started);
        FanOutTelemetry.DispatchDuration.Record(elapsed.TotalSeconds, FanOutTelemetry.Tag("fanout.name", cron.Id));
        LogDispatched(cron.Id, runId, done.Items, done.Jobs, elapsed.TotalMilliseconds);
        return $"Run {runId}: dispatched {done.Items} items as {done.Jobs} jobs to {@event.Handlers.Count} handler(s) of '{cron.EventName}'.";
    }

    /// <summary>Records that the cancelled run's dispatch stopped, so the run can complete once its last call ends.</summary>
    private string Cancelled(string runId, long dispatchedItems)
    {
        using (var connection = hangfire.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            runs.FinishDispatch(transaction, runId, RunRecord.Cancelled);
            transaction.Commit();
        }

        LogCancelledRun(runId, dispatchedItems);
        return $"Run {runId} was cancelled: its dispatch stopped after {dispatchedItems} items.";
    }

    private DispatchCheckpoint ReadCheckpoint(string runId)
    {
        using var connection = hangfire.Storage.GetConnection();
        return runs.Find(connection, runId)?.Checkpoint ?? DispatchCheckpoint.Start;
    }

    // An execution that finds its run's work done by another (a retry that overlapped a successful one) says what that
    // one did, so the job's result in the dashboard reads the same whichever execution succeeded last.
    private static string AlreadyDone(RunRecord record) => record.Status == RunRecord.Dispatched
        ? $"Run {record.RunId} was already dispatched: {record.DispatchedItems} items as {record.DispatchedJobs} jobs; nothing more to dispatch."
        : $"Run {record.RunId} was already {record.Status}; nothing more to dispatch.";

    // Only a new firing may be skipped (Skip, or BufferOne with another firing already waiting); a retry or a manual
    // trigger waits, as does a firing with Wait.
    private async Task<(string? Holder, bool Skip)> AcquireAsync(RegisteredCron cron, string owner, bool isNewFiring, CancellationToken cancellationToken)
    {
        var wait = cron.Options.OverlapWaitTimeout;
        return (isNewFiring ? cron.Options.Overlap : FanOutOverlap.Wait) switch
        {
            FanOutOverlap.Skip => (lease.TryAcquire(cron.Id, owner), true),
            FanOutOverlap.BufferOne => await lease.AcquireOrBufferAsync(cron.Id, owner, wait, cancellationToken).ConfigureAwait(false),
            _ => (await lease.AcquireAsync(cron.Id, owner, wait, cancellationToken).ConfigureAwait(false), false),
        };
    }

    private string Overlapped(RegisteredCron cron, string runId, string holder, bool skip)
    {
        if (!skip)
        {
            // A retry or a manual trigger must not be lost: fail, and let Hangfire retry it later.
            throw new TimeoutException(
                $"Cron fan-out '{cron.Id}': run {runId} waited for run {holder} to finish dispatching and timed out; Hangfire will retry it.");
        }

        using (var connection = hangfire.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            runs.Skip(transaction, runId, cron.Id, cron.EventName, registry.Options.RunRetention);
            transaction.Commit();
        }

        LogSkipped(cron.Id, runId, holder);
        return cron.Options.Overlap == FanOutOverlap.BufferOne
            ? $"Skipped: run {holder} of cron fan-out '{cron.Id}' was still dispatching and another firing already waited for it (overlap rule: BufferOne)."
            : $"Skipped: run {holder} of cron fan-out '{cron.Id}' was still dispatching (overlap rule: Skip).";
    }

    private string SkippedPaused(RegisteredCron cron, string runId)
    {
        using (var connection = hangfire.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            runs.Skip(transaction, runId, cron.Id, cron.EventName, registry.Options.RunRetention, RunRecord.PausedSkip);
            transaction.Commit();
        }

        LogSkippedPaused(cron.Id, runId);
        return $"Skipped: cron fan-out '{cron.Id}' is paused; trigger it to run it now.";
    }

    private static (string RunId, bool IsNewFiring) RunIdOf(string? triggeredRunId, PerformContext? context)
    {
        // A job that names its run (a manual trigger, or a resume of an interrupted run) is never a new firing: it waits
        // for the lease rather than skipping.
        if (triggeredRunId is not null)
        {
            return (triggeredRunId, false);
        }

        var stored = context?.GetJobParameter<string>(JobParameters.RunId);
        if (!string.IsNullOrEmpty(stored))
        {
            return (stored, false);
        }

        var runId = RunIds.New();
        context?.SetJobParameter(JobParameters.RunId, runId);
        return (runId, true);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cron fan-out {FanOutId} fired, but it is not declared or is disabled in this application; nothing dispatched")]
    private partial void LogNotDeclared(string fanOutId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cron fan-out {FanOutId} resumes run {FanOutRunId} after {Items} items already dispatched")]
    private partial void LogResuming(string fanOutId, string fanOutRunId, long items);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cron fan-out {FanOutId} run {FanOutRunId} dispatched {Items} items as {Jobs} jobs in {ElapsedMs:F0} ms")]
    private partial void LogDispatched(string fanOutId, string fanOutRunId, long items, long jobs, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {FanOutRunId} was cancelled; its dispatch stopped after {Items} items")]
    private partial void LogCancelledRun(string fanOutRunId, long items);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cron fan-out {FanOutId} firing {FanOutRunId} skipped: the fan-out is paused")]
    private partial void LogSkippedPaused(string fanOutId, string fanOutRunId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cron fan-out {FanOutId} firing {FanOutRunId} skipped: run {HoldingRunId} is still dispatching")]
    private partial void LogSkipped(string fanOutId, string fanOutRunId, string holdingRunId);
}
