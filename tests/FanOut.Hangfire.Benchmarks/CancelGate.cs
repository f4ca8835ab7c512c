namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// The cancel scenario's handler: its call holds the limit's one slot until its token fires or the scenario lets it go,
/// so every other job of the run waits for a slot. It counts the calls started, so the scenario knows the slot is taken.
/// </summary>
public sealed class CancelGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    public int Started => Volatile.Read(ref _started);

    public void Open() => _open.TrySetResult();

    internal Task HoldAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _started);
        return _open.Task.WaitAsync(cancellationToken);
    }
}

/// <summary>The handler of the cancel scenario: held by <see cref="CancelGate"/>.</summary>
public sealed class CancelGateHandler(CancelGate gate) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) => gate.HoldAsync(cancellationToken);
}
