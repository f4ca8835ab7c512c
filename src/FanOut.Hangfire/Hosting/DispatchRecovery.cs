using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Resumes the cron runs whose dispatcher stopped without finishing (its process died): once such a run's lease has run
/// out, a process that declares its fan-out enqueues a new dispatch job for the same run, which takes the lease and goes
/// on from the checkpoint, instead of waiting for the storage to hand the dead process's job out again (Hangfire.PostgreSql:
/// its invisibility timeout, 30 minutes by default). Every process looks; a lock per run and the time of the last request,
/// kept in the run's record, make one of them ask, once a lease period. The old job, when the storage hands it out at
/// last, is the same run: it waits for the lease like any other attempt, and finds the run dispatched.
/// </summary>
internal sealed partial class DispatchRecovery(
    FanOutRegistry registry,
    HangfireServices hangfire,
    RunStore runs,
    InterruptedRuns interrupted,
    DispatchRecoverySettings settings,
    TimeProvider time,
    ILogger<DispatchRecovery> logger) : BackgroundService
{
    // Another process holding a run's lock is asking for the same resume: no need to wait for it.
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        StoragePolling.RunAsync(() => settings.Interval, time, firstAtOnce: false, Check, LogCheckFailed, stoppingToken);

    /// <summary>One look: asks for the resume of every interrupted run of a cron fan-out this process declares and has enabled.</summary>
    internal void Check()
    {
        using var connection = hangfire.Storage.GetConnection();
        foreach (var run in interrupted.Find(connection))
        {
            if (registry.FindCron(run.Record.Name) is { Options.Enabled: true } cron)
            {
                TryResume(connection, cron, run.Record.RunId);
            }
        }
    }

    private void TryResume(IStorageConnection connection, RegisteredCron cron, string runId)
    {
        IDisposable runLock;
        try
        {
            runLock = connection.AcquireDistributedLock(StorageKeys.ResumeLock(runId), LockTimeout);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Another process is asking for this resume.
            return;
        }

        using (runLock)
        {
            // Read again under the lock: another process may have asked, or a dispatch taken the lease, since the look.
            if (interrupted.Find(connection, runId) is not { } run || AskedRecently(run.Record))
            {
                return;
            }

            DispatchJobs.Enqueue(
                hangfire,
                connection,
                cron,
                runId,
                $"Resumes run {runId}: its dispatcher stopped renewing its lease",
                transaction => runs.RequestResume(transaction, runId));
            LogResuming(runId, cron.Id, run.Record.DispatchedItems, run.LeaseExpiredAt);
        }
    }

    // The job asked for takes the lease when it starts, and the run is no longer interrupted. Until then (it waits in its
    // queue, or for another run's dispatch) it is not asked for again; if its lease runs out again a lease period later,
    // it died too, and is asked for once more.
    private bool AskedRecently(RunRecord record) =>
        record.ResumeRequestedAt is { } asked && time.GetUtcNow() - asked < registry.Options.DispatchLeaseDuration;

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumes run {FanOutRunId} of fan-out {FanOutId} from item {Items}: its dispatcher stopped renewing its lease, which ran out at {LeaseExpiredAt:O}")]
    private partial void LogResuming(string fanOutRunId, string fanOutId, long items, DateTimeOffset leaseExpiredAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for interrupted dispatches failed; looking again at the next interval")]
    private partial void LogCheckFailed(Exception exception);
}
