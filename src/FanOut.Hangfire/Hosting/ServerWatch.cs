using System.Globalization;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Watches for the two misconfigurations that make jobs wait without a word: a queue a fan-out or handler uses that no
/// live Hangfire server listens to, and open runs while no server at all is seen in storage. Each becomes a warning
/// (logged once, shown on the Fan-out page) while it lasts.
/// </summary>
internal sealed class ServerWatch(
    ServerCensus census,
    HangfireServices hangfire,
    FanOutWarnings warnings,
    ServerWatchSettings settings,
    TimeProvider time) : BackgroundService
{
    private const string NoServerKey = "servers:none";
    private const string QueueKeyPrefix = "servers:queue:";

    private readonly HashSet<string> _warnedQueues = new(StringComparer.Ordinal);
    private DateTimeOffset? _noServerSince;

    // Storage outages are expected and temporary; a failed look says nothing, the next one tries again.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        StoragePolling.RunAsync(() => settings.Interval, time, firstAtOnce: false, Check, failed: null, stoppingToken);

    internal void Check()
    {
        var servers = census.Take();
        CheckQueues(servers);
        CheckAnyServer(servers);
    }

    private void CheckQueues(ServersSeen servers)
    {
        var unheard = servers.Unheard.Select(q => q.Queue).ToHashSet(StringComparer.Ordinal);
        foreach (var queue in _warnedQueues.Where(q => !unheard.Contains(q)).ToList())
        {
            _warnedQueues.Remove(queue);
            warnings.Clear(QueueKeyPrefix + queue);
        }

        foreach (var queue in servers.Unheard)
        {
            _warnedQueues.Add(queue.Queue);
            warnings.Raise(QueueKeyPrefix + queue.Queue, queue.Message);
        }
    }

    private void CheckAnyServer(ServersSeen servers)
    {
        if (servers.Live.Count > 0)
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

        var now = servers.At;
        _noServerSince ??= now;
        if (now - _noServerSince >= settings.NoServerGrace)
        {
            warnings.Raise(
                NoServerKey,
                string.Create(CultureInfo.InvariantCulture, $"No Hangfire server has been seen in storage for {(now - _noServerSince.Value).TotalSeconds:F0} s while {open.Count} run(s) wait for their jobs to run. ") +
                ServerCensus.NoServerAdvice);
        }
    }
}
