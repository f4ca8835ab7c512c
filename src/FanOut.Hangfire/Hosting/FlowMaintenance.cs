using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Makes this application's limits known to the limit filter, and runs their two timers on every process: the start of
/// throttled jobs when it is due (at the very time for the jobs this process parked; for those parked elsewhere, every
/// 100 ms while some are due within a second, else every second), and a sweep every
/// 5 seconds that frees the slots of orphaned calls once they ended and fills slots left free by state changes made
/// outside the library's state changer. The timers do nothing when no handler has a limit; the filter is registered
/// always, since it also holds back the jobs of paused handlers.
/// </summary>
internal sealed partial class FlowMaintenance(
    FanOutRegistry registry,
    HangfireServices hangfire,
    FlowControl flow,
    TimeProvider time,
    ILogger<FlowMaintenance> logger) : BackgroundService
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private IDisposable? _registration;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Every application registers: a paused handler's jobs are held back by the same filter, limit or none.
        _registration = JobFlows.Register(hangfire.Storage, flow);

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _registration?.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (registry.Limits.Count == 0)
        {
            return Task.CompletedTask;
        }

        var sweep = StoragePolling.RunAsync(() => SweepInterval, time, firstAtOnce: false, flow.Sweep, ex => LogFailed(ex, "sweep"), stoppingToken);
        return registry.Limits.Any(l => l.Throttles)
            ? Task.WhenAll(sweep, ReleaseDueAsync(stoppingToken))
            : sweep;
    }

    private async Task ReleaseDueAsync(CancellationToken stoppingToken)
    {
        // The starts this process parked, so it wakes at each one's time: a start released late by a poll would come
        // closer than the throttle's interval to the next one of its key.
        var dues = new SortedSet<long>();
        using var parked = new SemaphoreSlim(0, 1);
        void OnParked(DateTimeOffset due)
        {
            lock (dues)
            {
                dues.Add(due.ToUnixTimeMilliseconds());
            }

            try
            {
                if (parked.CurrentCount == 0)
                {
                    parked.Release();
                }
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
        }

        flow.Parked += OnParked;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var soon = false;
                try
                {
                    soon = flow.ReleaseDue();
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    LogFailed(ex, "throttle timer");
                }

                var wait = soon ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1);
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                lock (dues)
                {
                    dues.RemoveWhere(due => due <= now);
                    if (dues.Count > 0)
                    {
                        wait = TimeSpan.FromMilliseconds(Math.Clamp(dues.Min - now, 1, wait.TotalMilliseconds));
                    }
                }

                try
                {
                    await parked.WaitAsync(wait, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            flow.Parked -= OnParked;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The limits' {Task} failed; it tries again")]
    private partial void LogFailed(Exception exception, string task);
}
