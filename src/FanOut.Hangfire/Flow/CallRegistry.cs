using System.Collections.Concurrent;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// The calls of limited jobs this process runs now, and those that just ended, so a slot is let go when the call it
/// belongs to has really ended: a job deleted or requeued while its call runs leaves its slot to an orphan record,
/// freed once the call returns (or its server is gone), never while the handler may still be working.
/// </summary>
internal sealed class CallRegistry
{
    private readonly ConcurrentDictionary<string, string> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _servers = new(StringComparer.Ordinal);

    public void Started(string jobId, string serverId)
    {
        _servers.TryAdd(serverId, 0);
        _running[jobId] = serverId;
        _ended.TryRemove(jobId, out _);
    }

    public void Ended(string jobId, DateTimeOffset at)
    {
        _running.TryRemove(jobId, out _);
        _ended[jobId] = at;
    }

    /// <summary>Whether the call of <paramref name="jobId"/> ended here and its job's state change is the one that lets its slot go.</summary>
    public bool TakeEnded(string jobId) => _ended.TryRemove(jobId, out _);

    public bool IsRunning(string jobId) => _running.ContainsKey(jobId);

    public bool IsOwnServer(string serverId) => _servers.ContainsKey(serverId);

    /// <summary>Forgets the calls that ended before <paramref name="before"/> with no state change of their job taking note (it had been deleted or requeued meanwhile).</summary>
    public IReadOnlyList<string> EndedBefore(DateTimeOffset before)
    {
        var old = _ended.Where(e => e.Value < before).Select(e => e.Key).ToList();
        foreach (var jobId in old)
        {
            _ended.TryRemove(jobId, out _);
        }

        return old;
    }
}
