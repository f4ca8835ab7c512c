using System.Collections.Concurrent;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// How every process learns of cancels: every second it reads <c>fanout:cancelled-runs</c>, so its filter deletes the
/// jobs of those runs instead of running them and the calls of those runs running here see their token fire. For each
/// cancelled run not complete yet it deletes what is left of its jobs (those waiting for a slot, which the cancel leaves
/// to it; a chunk that committed while the cancel did), in the background, looking again every few seconds, one process
/// at a time, and records the end of a
/// dispatch that stopped without saying so (its process died) a minute after the cancel, so the run completes.
/// </summary>
internal sealed partial class CancellationWatch(
    HangfireServices hangfire,
    RunStore runs,
    CancelledRuns cancelled,
    RunCancellation cancellation,
    TimeProvider time,
    ILogger<CancellationWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);

    // A live dispatch checks for a cancel before each chunk, and a chunk commits in seconds.
    private static readonly TimeSpan SilentDispatchGrace = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, DateTimeOffset> _lastSwept = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _sweeps = new(StringComparer.Ordinal);
    private IDisposable? _registration;
    private CancellationToken _stopping;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = JobCancellations.Register(hangfire.Storage, cancelled);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_sweeps.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
        _registration?.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        return StoragePolling.RunAsync(() => Interval, time, firstAtOnce: true, Look, LogLookFailed, stoppingToken);
    }

    internal void Look()
    {
        using var connection = hangfire.Storage.GetConnection();
        var ids = connection.GetAllItemsFromSet(StorageKeys.CancelledRuns) ?? [];
        cancelled.Learn(ids);
        if (ids.Count == 0)
        {
            return;
        }

        var open = connection.GetAllItemsFromSet(StorageKeys.OpenRuns) ?? [];
        var now = time.GetUtcNow();
        foreach (var runId in ids)
        {
            if (!open.Contains(runId))
            {
                _lastSwept.Remove(runId);
                continue;
            }

            if (runs.Find(connection, runId) is not { IsCancelled: true } record)
            {
                Forget(connection, runId);
                continue;
            }

            LookAt(connection, record, now);
        }
    }

    private void LookAt(IStorageConnection connection, RunRecord record, DateTimeOffset now)
    {
        if (!record.DispatchEnded && record.CancelledAt + SilentDispatchGrace < now)
        {
            using var transaction = connection.CreateWriteTransaction();
            runs.FinishDispatch(transaction, record.RunId, RunRecord.Cancelled);
            transaction.Commit();
            LogSilentDispatch(record.RunId);
        }

        if (_lastSwept.TryGetValue(record.RunId, out var last) && last + SweepInterval > now)
        {
            return;
        }

        _lastSwept[record.RunId] = now;
        if (FanOutRuns.ToRun(connection, record).InFlight > 0)
        {
            // Thousands of waiting jobs take a while to delete: off the look, so cancels keep being learnt every second.
            var sweep = new Task(() => Sweep(record));
            if (_sweeps.TryAdd(record.RunId, sweep))
            {
                sweep.Start(TaskScheduler.Default);
            }
        }
    }

    private void Sweep(RunRecord record)
    {
        try
        {
            using var connection = hangfire.Storage.GetConnection();
            cancellation.Sweep(connection, record, _stopping);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: another process, or this one after its restart, goes on.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLookFailed(ex);
        }
        finally
        {
            _sweeps.TryRemove(record.RunId, out _);
        }
    }

    // The run's record expired: it has no jobs left to stop.
    private static void Forget(IStorageConnection connection, string runId)
    {
        using var transaction = connection.CreateWriteTransaction();
        transaction.RemoveFromSet(StorageKeys.CancelledRuns, runId);
        transaction.Commit();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {FanOutRunId} was cancelled a minute ago and its dispatch never said it stopped (its process stopped?); its dispatch is recorded as ended")]
    private partial void LogSilentDispatch(string fanOutRunId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking at cancelled runs failed; retrying at the next interval")]
    private partial void LogLookFailed(Exception exception);
}
