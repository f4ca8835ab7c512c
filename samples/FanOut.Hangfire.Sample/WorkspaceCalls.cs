using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace FanOut.Hangfire.Sample;

/// <summary>The requests the fake Slack is serving right now, per workspace, and the most it has seen at once for one.</summary>
internal sealed class WorkspaceCalls
{
    private readonly ConcurrentDictionary<string, StrongBox<int>> _running = new(StringComparer.Ordinal);
    private int _mostAtOnce;

    /// <summary>The most requests seen at once for one workspace, rejected ones included.</summary>
    public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

    /// <summary>Counts a request of <paramref name="workspace"/> as running until the returned call is disposed.</summary>
    public Call Enter(string workspace)
    {
        var running = _running.GetOrAdd(workspace, _ => new StrongBox<int>());
        var atOnce = Interlocked.Increment(ref running.Value);
        for (var most = MostAtOnce; atOnce > most; most = MostAtOnce)
        {
            if (Interlocked.CompareExchange(ref _mostAtOnce, atOnce, most) == most)
            {
                break;
            }
        }

        return new Call(running, atOnce);
    }

    /// <summary>One request being served; <see cref="AtOnce"/> counts it with the others of its workspace.</summary>
    public readonly struct Call(StrongBox<int> running, int atOnce) : IDisposable
    {
        public int AtOnce => atOnce;

        public void Dispose() => Interlocked.Decrement(ref running.Value);
    }
}
