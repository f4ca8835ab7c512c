using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Keeps this process's view of what is paused fresh, and releases the jobs of resumed handlers, on every process: it
/// reads the stored pauses every <see cref="Pauses.RefreshInterval"/>, releases a handler's waiting jobs
/// <see cref="ReleaseDelay"/> after it sees the handler resumed (by this process at once, by another within the
/// interval), and every
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

    /// <summary>
    /// How long after this process sees a resume it releases the handler's jobs: two refreshes, so every other server has
    /// read the resume too by then, and none takes a released job for paused and holds it back out of its turn.
    /// </summary>
    public static readonly TimeSpan ReleaseDelay = Pauses.RefreshInterval * 2;

    // The handlers seen resumed, and when their jobs are due to be released.
    private readonly Dictionary<string, DateTimeOffset> _resumed = new(StringComparer.Ordinal);
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
                DateTimeOffset wakeAt;
                try
                {
                    var now = time.GetUtcNow();
                    var sweep = now >= nextSweep;
                    if (sweep)
                    {
                        nextSweep = now + SweepInterval;
                    }

                    wakeAt = Release(sweep, now, stoppingToken) is { } due && due < nextSweep ? due : nextSweep;
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    LogFailed(ex, "releasing a resumed handler's jobs");
                    wakeAt = nextSweep;
                }

                try
                {
                    var wait = wakeAt - time.GetUtcNow();
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

    /// <summary>Releases the handlers due now (and, on a sweep, those with jobs left over); returns when the next is due.</summary>
    private DateTimeOffset? Release(bool sweep, DateTimeOffset now, CancellationToken stoppingToken)
    {
        List<string> handlers;
        HashSet<string> waiting;
        DateTimeOffset? next;
        lock (_resumed)
        {
            handlers = [.. _resumed.Where(r => r.Value <= now).Select(r => r.Key)];
            foreach (var handlerId in handlers)
            {
                _resumed.Remove(handlerId);
            }

            next = _resumed.Count > 0 ? _resumed.Values.Min() : null;
            waiting = [.. _resumed.Keys];
        }

        if (sweep)
        {
            // A handler resumed a moment ago waits for its own release, in turn.
            using var connection = hangfire.Storage.GetConnection();
            handlers.AddRange(registry.Handlers
                .Where(h => !pauses.IsHandlerPaused(h.Id) && !handlers.Contains(h.Id) && !waiting.Contains(h.Id) && PausedJobs.Count(connection, h.Id) > 0)
                .Select(h => h.Id));
        }

        foreach (var handlerId in handlers)
        {
            paused.Release(handlerId, stoppingToken);
        }

        return next;
    }

    private void OnResumed(string handlerId)
    {
        lock (_resumed)
        {
            _resumed[handlerId] = time.GetUtcNow() + ReleaseDelay;
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
