using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Keeps this process's view of what is paused fresh, and releases the jobs of resumed handlers, on every process: it
/// reads the stored pauses every <see cref="Pauses.RefreshInterval"/>, releases a handler's waiting jobs as soon as it
/// sees the handler resumed (by this process at once, by another within the interval), and every
/// <see cref="SweepInterval"/> looks for handlers that are not paused but still have jobs waiting (a release cut short by
/// a process that died, or a job a server made wait in the instant before it saw the resume) and releases those too.
/// </summary>
internal sealed partial class PauseMaintenance(
    FanOutRegistry registry,
    HangfireServices hangfire,
    Pauses pauses,
    PausedJobs paused,
    TimeProvider time,
    ILogger<PauseMaintenance> logger) : BackgroundService
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private readonly HashSet<string> _resumed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    // The two loops run apart: a long release must not hold back the refresh every other check relies on.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
        StoragePolling.RunAsync(() => Pauses.RefreshInterval, time, firstAtOnce: true, pauses.Refresh, ex => LogFailed(ex, "reading what is paused"), stoppingToken),
        Task.Run(() => ReleaseAsync(stoppingToken), stoppingToken));

    private async Task ReleaseAsync(CancellationToken stoppingToken)
    {
        pauses.HandlerResumed += OnResumed;
        try
        {
            // The first sweep at once: a release cut short before this process started is picked up now.
            var nextSweep = time.GetUtcNow();
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var sweep = time.GetUtcNow() >= nextSweep;
                    if (sweep)
                    {
                        nextSweep = time.GetUtcNow() + SweepInterval;
                    }

                    Release(sweep, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    LogFailed(ex, "releasing a resumed handler's jobs");
                }

                try
                {
                    var wait = nextSweep - time.GetUtcNow();
                    await _wake.WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            pauses.HandlerResumed -= OnResumed;
        }
    }

    private void Release(bool sweep, CancellationToken stoppingToken)
    {
        List<string> handlers;
        lock (_resumed)
        {
            handlers = [.. _resumed];
            _resumed.Clear();
        }

        if (sweep)
        {
            using var connection = hangfire.Storage.GetConnection();
            handlers.AddRange(registry.Handlers
                .Where(h => !pauses.IsHandlerPaused(h.Id) && !handlers.Contains(h.Id) && PausedJobs.Count(connection, h.Id) > 0)
                .Select(h => h.Id));
        }

        foreach (var handlerId in handlers)
        {
            paused.Release(handlerId, stoppingToken);
        }
    }

    private void OnResumed(string handlerId)
    {
        lock (_resumed)
        {
            _resumed.Add(handlerId);
        }

        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pauses: {Task} failed; it tries again")]
    private partial void LogFailed(Exception exception, string task);
}
