using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// Completes runs: a run is complete when its dispatch has ended and every job is in a final state. Each process watches
/// the open runs; completing one takes a lock, re-reads, and in one transaction records the completion and enqueues the
/// completion handler's job, so each completion happens exactly once however many processes watch.
/// </summary>
internal sealed partial class RunCompletionMonitor(
    FanOutRegistry registry,
    HangfireServices hangfire,
    RunStore runs,
    TimeProvider time,
    ILogger<RunCompletionMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        StoragePolling.RunAsync(() => registry.Options.CompletionCheckInterval, time, firstAtOnce: true, CheckOpenRuns, LogCheckFailed, stoppingToken);

    internal void CheckOpenRuns()
    {
        using var connection = hangfire.Storage.GetConnection();
        foreach (var runId in connection.GetAllItemsFromSet(StorageKeys.OpenRuns) ?? [])
        {
            TryComplete(connection, runId);
        }
    }

    private void TryComplete(IStorageConnection connection, string runId)
    {
        var record = runs.Find(connection, runId);
        if (record is null || record.Status == RunRecord.Skipped)
        {
            Close(connection, runId);
            return;
        }

        if (CompletedRun(connection, record) is null)
        {
            return;
        }

        IDisposable distributedLock;
        try
        {
            distributedLock = connection.AcquireDistributedLock(StorageKeys.RunLock(runId), LockTimeout);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Another process is completing this run.
            return;
        }

        using (distributedLock)
        {
            var current = runs.Find(connection, runId);
            if (current is null || current.Completions != record.Completions || CompletedRun(connection, current) is not { } run
                || !(connection.GetAllItemsFromSet(StorageKeys.OpenRuns)?.Contains(runId) ?? false))
            {
                return;
            }

            Complete(connection, current, run);
        }

        // A job requeued while this completion committed would have been taken off the watch with it: put it back.
        if (runs.Find(connection, runId) is { } after && CompletedRun(connection, after) is null)
        {
            using var transaction = connection.CreateWriteTransaction();
            transaction.AddToSet(StorageKeys.OpenRuns, runId);
            transaction.Commit();
        }
    }

    private void Complete(IStorageConnection connection, RunRecord record, FanOutRun run)
    {
        var completion = record.Completions + 1;
        var handler = registry.FindCompletionHandler(record.Name);
        var queue = registry.Options.CompletionQueue;
        var job = handler is null
            ? null
            : hangfire.CreateUninitialized(
                connection,
                CompletionJobCodec.Instance.Create(hangfire, new CompletionJobArgs(record.Name, record.RunId, completion), queue),
                new Dictionary<string, object?>());

        using (var transaction = connection.CreateWriteTransaction())
        {
            if (job is not null)
            {
                hangfire.Enqueue(connection, transaction, job, queue, $"Run {record.RunId} completed");
            }

            runs.Complete(transaction, record, registry.Options.RunRetention);
            transaction.Commit();
        }

        if (record.DispatchStartedAt is { } started)
        {
            FanOutTelemetry.RunCompletionTime.Record(
                (time.GetUtcNow() - started).TotalSeconds,
                FanOutTelemetry.Tag("fanout.name", record.Name));
        }

        LogCompleted(record.RunId, record.Name, completion, run.Succeeded, run.Failed, run.Deleted);
    }

    /// <summary>The run with its counts when its dispatch ended and every job is in a final state; otherwise null.</summary>
    private static FanOutRun? CompletedRun(IStorageConnection connection, RunRecord record) =>
        record.DispatchEnded && FanOutRuns.ToRun(connection, record, retries: false) is { InFlight: 0 } run ? run : null;

    private static void Close(IStorageConnection connection, string runId)
    {
        using var transaction = connection.CreateWriteTransaction();
        transaction.RemoveFromSet(StorageKeys.OpenRuns, runId);
        transaction.Commit();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {FanOutRunId} of {FanOutName} completed (completion {Completion}): {Succeeded} succeeded, {Failed} failed, {Deleted} deleted")]
    private partial void LogCompleted(string fanOutRunId, string fanOutName, int completion, long succeeded, long failed, long deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking open runs for completion failed; retrying at the next interval")]
    private partial void LogCheckFailed(Exception exception);
}
