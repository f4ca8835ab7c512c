using System.Runtime.CompilerServices;

namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>A source that holds each dispatch open until the test opens the gate, counting how many run at once.</summary>
public sealed class Gate
{
    private int _running;
    private int _maxRunning;
    private int _started;

    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Started => Volatile.Read(ref _started);

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public IDisposable Enter()
    {
        Interlocked.Increment(ref _started);
        var now = Interlocked.Increment(ref _running);
        int seen;
        while ((seen = Volatile.Read(ref _maxRunning)) < now && Interlocked.CompareExchange(ref _maxRunning, now, seen) != seen)
        {
        }

        return new Leave(this);
    }

    private sealed class Leave(Gate gate) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref gate._running);
    }
}

public sealed class GatedSource(Gate gate, TestItems items) : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var _ = gate.Enter();
        await gate.Open.Task.WaitAsync(cancellationToken);
        foreach (var id in items.Ids)
        {
            yield return id;
        }
    }
}
