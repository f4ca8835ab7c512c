using System.Globalization;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire.Storage.Monitoring;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Watches for the two misconfigurations that make jobs wait without a word: a queue a fan-out or handler uses that no
/// live Hangfire server listens to, and open runs while no server at all is seen in storage. Each becomes a warning
/// (logged once, shown on the Fan-out page) while it lasts.
/// </summary>
internal sealed class ServerWatch(
    FanOutRegistry registry,
    HangfireServices hangfire,
    FanOutWarnings warnings,
    ServerWatchSettings settings,
    TimeProvider time) : BackgroundService
{
    private const string NoServerKey = "servers:none";
    private const string QueueKeyPrefix = "servers:queue:";

    private readonly HashSet<string> _warnedQueues = new(StringComparer.Ordinal);
    private DateTimeOffset? _noServerSince;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.Interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                Check();
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // Storage outages are expected and temporary; the next look tries again.
            }
        }
    }

    internal void Check()
    {
        var now = time.GetUtcNow();
        var live = hangfire.Storage.GetMonitoringApi().Servers().Where(s => IsLive(s, now)).ToList();
        CheckQueues(live);
        CheckAnyServer(live, now);
    }

    /// <summary>The queues this application's jobs go to, each with what uses it.</summary>
    internal Dictionary<string, List<string>> DeclaredQueues()
    {
        var queues = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string queue, string user)
        {
            if (!queues.TryGetValue(queue, out var users))
            {
                queues[queue] = users = [];
            }

            users.Add(user);
        }

        foreach (var cron in registry.Crons.Where(c => c.Options.Enabled))
        {
            Add(cron.Options.Queue, $"the dispatch of cron fan-out '{cron.Id}'");
        }

        foreach (var handler in registry.Handlers)
        {
            Add(handler.Options.Queue, $"handler '{handler.Id}'");
        }

        if (registry.CompletionHandlers.Count > 0)
        {
            Add(registry.Options.CompletionQueue, "completion handlers (FanOutOptions.CompletionQueue)");
        }

        return queues;
    }

    private void CheckQueues(List<ServerDto> live)
    {
        // With no server at all, the warning below says it better than one per queue.
        var listened = live.SelectMany(s => s.Queues ?? []).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (queue, users) in DeclaredQueues())
        {
            if (live.Count == 0 || listened.Contains(queue))
            {
                if (_warnedQueues.Remove(queue))
                {
                    warnings.Clear(QueueKeyPrefix + queue);
                }

                continue;
            }

            _warnedQueues.Add(queue);
            warnings.Raise(
                QueueKeyPrefix + queue,
                $"No live Hangfire server listens to queue '{queue}', used by {string.Join(", ", users)}: its jobs stay enqueued until one does. " +
                $"The servers listen to {string.Join(", ", listened.Order(StringComparer.Ordinal).Select(q => $"'{q}'"))}; add the queue with AddHangfireServer(o => o.Queues = [...]).");
        }
    }

    private void CheckAnyServer(List<ServerDto> live, DateTimeOffset now)
    {
        if (live.Count > 0)
        {
            _noServerSince = null;
            warnings.Clear(NoServerKey);
            return;
        }

        using var connection = hangfire.Storage.GetConnection();
        var open = connection.GetAllItemsFromSet(StorageKeys.OpenRuns) ?? [];
        if (open.Count == 0)
        {
            _noServerSince = null;
            warnings.Clear(NoServerKey);
            return;
        }

        _noServerSince ??= now;
        if (now - _noServerSince >= settings.NoServerGrace)
        {
            warnings.Raise(
                NoServerKey,
                string.Create(CultureInfo.InvariantCulture, $"No Hangfire server has been seen in storage for {(now - _noServerSince.Value).TotalSeconds:F0} s while {open.Count} run(s) wait for their jobs to run. ") +
                "Call AddHangfireServer() in at least one process that shares this storage.");
        }
    }

    private bool IsLive(ServerDto server, DateTimeOffset now)
    {
        var seen = server.Heartbeat ?? server.StartedAt;
        return now - new DateTimeOffset(DateTime.SpecifyKind(seen, DateTimeKind.Utc)) < settings.ServerTimeout;
    }
}
