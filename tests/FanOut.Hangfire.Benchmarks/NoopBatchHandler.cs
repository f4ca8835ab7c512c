namespace FanOut.Hangfire.Benchmarks;

/// <summary>The scaling scenario's batch handler: counts its batch's items (<see cref="HandledItems"/>) and does nothing else; all succeed.</summary>
public sealed class NoopBatchHandler(HandledItems handled) : IFanOutBatchHandler<string>
{
    public Task HandleAsync(IReadOnlyList<FanOutBatchItem<string>> items, FanOutBatchContext context, CancellationToken cancellationToken)
    {
        handled.Add(items.Count);
        return Task.CompletedTask;
    }
}
