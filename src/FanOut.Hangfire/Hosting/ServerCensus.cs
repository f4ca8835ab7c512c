using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage.Monitoring;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// The Hangfire servers seen alive in storage, set against the queues this application's jobs go to. The server watch
/// (warnings) and the health check both read the servers through it, so they always agree on what is missing and say
/// it in the same words.
/// </summary>
internal sealed class ServerCensus(
    FanOutRegistry registry,
    HangfireServices hangfire,
    ServerWatchSettings settings,
    TimeProvider time)
{
    /// <summary>What to do when no server is seen at all.</summary>
    public const string NoServerAdvice = "Call AddHangfireServer() in at least one process that shares this storage.";

    /// <summary>The queues this application's jobs go to, each with what uses it.</summary>
    public Dictionary<string, List<string>> DeclaredQueues()
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

    /// <summary>Reads the servers in storage (one storage call) and finds the declared queues none of the live ones listens to.</summary>
    public ServersSeen Take()
    {
        var now = time.GetUtcNow();
        var live = hangfire.Storage.GetMonitoringApi().Servers().Where(s => IsLive(s, now)).ToList();
        var listened = live.SelectMany(s => s.Queues ?? []).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var declared = DeclaredQueues();

        // With no server at all, that one fact says it better than a line per queue.
        var unheard = live.Count == 0
            ? []
            : declared
                .Where(q => !listened.Contains(q.Key))
                .Select(q => new UnheardQueue(q.Key, q.Value, Describe(q.Key, q.Value, listened)))
                .ToList();
        return new ServersSeen(now, live, listened, declared.Keys.Order(StringComparer.Ordinal).ToList(), unheard);
    }

    private static string Describe(string queue, List<string> users, HashSet<string> listened) =>
        $"No live Hangfire server listens to queue '{queue}', used by {string.Join(", ", users)}: its jobs stay enqueued until one does. " +
        $"The servers listen to {string.Join(", ", listened.Order(StringComparer.Ordinal).Select(q => $"'{q}'"))}; add the queue with AddHangfireServer(o => o.Queues = [...]).";

    private bool IsLive(ServerDto server, DateTimeOffset now)
    {
        var seen = server.Heartbeat ?? server.StartedAt;
        return now - new DateTimeOffset(DateTime.SpecifyKind(seen, DateTimeKind.Utc)) < settings.ServerTimeout;
    }
}

/// <summary>One look at the servers: when, the live ones, the queues they listen to, the declared queues and those nobody serves.</summary>
internal sealed record ServersSeen(
    DateTimeOffset At,
    IReadOnlyList<ServerDto> Live,
    IReadOnlySet<string> Listened,
    IReadOnlyList<string> Declared,
    IReadOnlyList<UnheardQueue> Unheard);

/// <summary>A declared queue no live server listens to, what uses it, and the sentence that says so.</summary>
internal sealed record UnheardQueue(string Queue, IReadOnlyList<string> UsedBy, string Message);
