using System.Collections.Concurrent;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// The handler's own record of its calls: when each started and ended, by key, from which the tests and benchmarks
/// measure concurrency (never from the library's counters). Keys are the part of an item before its first '-'.
/// </summary>
public sealed class CallLog
{
    private readonly ConcurrentQueue<Call> _calls = new();
    private readonly ConcurrentDictionary<string, int> _liveByKey = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _live;

    public TimeSpan Duration { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>When set, calls of items starting with <see cref="GatedPrefix"/> wait for it before they end.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public string GatedPrefix { get; set; } = string.Empty;

    /// <summary>The job id of each item's latest call that has started.</summary>
    public ConcurrentDictionary<string, string> JobIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Items whose calls throw, until they succeeded this many times fewer (item → failures left).</summary>
    public ConcurrentDictionary<string, int> FailuresLeft { get; } = new(StringComparer.Ordinal);

    public int MaxLive { get; private set; }

    public ConcurrentDictionary<string, int> MaxLiveByKey { get; } = new(StringComparer.Ordinal);

    public IReadOnlyCollection<Call> Calls => _calls;

    public int Count => _calls.Count;

    public int Live => Volatile.Read(ref _live);

    public static string KeyOf(string item) => item.Split('-')[0];

    public async Task RecordAsync(string handler, string item, CancellationToken cancellationToken, string jobId = "")
    {
        var key = KeyOf(item);
        JobIds[item] = jobId;
        var started = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            _live++;
            MaxLive = Math.Max(MaxLive, _live);
            var live = _liveByKey.AddOrUpdate(key, 1, (_, n) => n + 1);
            MaxLiveByKey.AddOrUpdate(key, live, (_, n) => Math.Max(n, live));
        }

        var failed = false;
        try
        {
            await Task.Delay(Duration, cancellationToken).ConfigureAwait(false);
            if (Gate is { } gate && item.StartsWith(GatedPrefix, StringComparison.Ordinal))
            {
                // Held open on purpose; a deleted job's call goes on, as a handler ignoring its token would.
                await gate.Task.ConfigureAwait(false);
            }
            if (FailuresLeft.TryGetValue(item, out var left) && left > 0)
            {
                FailuresLeft[item] = left - 1;
                failed = true;
                throw new InvalidOperationException($"Call of {item} fails on purpose ({left - 1} failures left).");
            }
        }
        finally
        {
            lock (_gate)
            {
                _live--;
                _liveByKey.AddOrUpdate(key, 0, (_, n) => n - 1);
            }

            _calls.Enqueue(new Call(handler, item, key, started, DateTimeOffset.UtcNow, failed));
        }
    }

    /// <summary>The most calls that overlapped at one instant, from the start and end records alone.</summary>
    public static int PeakOf(IEnumerable<Call> calls)
    {
        var peak = 0;
        var live = 0;
        foreach (var (_, delta) in calls.SelectMany(c => new[] { (c.Started, 1), (c.Ended, -1) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2))
        {
            live += delta;
            peak = Math.Max(peak, live);
        }

        return peak;
    }

    public sealed record Call(string Handler, string Item, string Key, DateTimeOffset Started, DateTimeOffset Ended, bool Failed);
}

/// <summary>A handler taking <see cref="CallLog.Duration"/> per call, recording each call in the test's <see cref="CallLog"/>.</summary>
public sealed class LoggedHandler(CallLog log) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) =>
        log.RecordAsync(context.HandlerId, item, cancellationToken, context.JobId);
}
