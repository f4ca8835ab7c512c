using System.Collections.Concurrent;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// The handler calls this process runs now, each with a token of its own linked to Hangfire's, so that the cancel of a
/// run fires the token of each of its calls here. A cancel looks through them all: there are at most as many as the
/// process has workers.
/// </summary>
internal sealed class RunningCalls
{
    private readonly ConcurrentDictionary<Call, byte> _calls = new();

    /// <summary>Starts tracking a call of <paramref name="runId"/>; dispose of it when the call ends.</summary>
    public Call Start(string runId, CancellationToken hangfireToken)
    {
        var call = new Call(this, runId, CancellationTokenSource.CreateLinkedTokenSource(hangfireToken));
        _calls.TryAdd(call, 0);
        return call;
    }

    /// <summary>Fires the token of every call of <paramref name="runId"/> running here; returns how many.</summary>
    public int Cancel(string runId)
    {
        var cancelled = 0;
        foreach (var call in _calls.Keys)
        {
            if (string.Equals(call.RunId, runId, StringComparison.Ordinal) && call.Cancel())
            {
                cancelled++;
            }
        }

        return cancelled;
    }

    /// <summary>How many calls of <paramref name="runId"/> run here now.</summary>
    public int CountOf(string runId) => _calls.Keys.Count(c => string.Equals(c.RunId, runId, StringComparison.Ordinal));

    /// <summary>One call: its token, fired by Hangfire (shutdown, a delete) or by the cancel of its run.</summary>
    internal sealed class Call(RunningCalls owner, string runId, CancellationTokenSource source) : IDisposable
    {
        private int _disposed;

        public string RunId { get; } = runId;

        public CancellationToken Token { get; } = source.Token;

        public bool Cancel()
        {
            try
            {
                source.Cancel();
                return true;
            }
            catch (ObjectDisposedException)
            {
                // The call ended meanwhile.
                return false;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner._calls.TryRemove(this, out _);
                source.Dispose();
            }
        }
    }
}
