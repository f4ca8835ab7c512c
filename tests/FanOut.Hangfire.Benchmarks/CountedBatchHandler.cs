namespace FanOut.Hangfire.Benchmarks;

/// <summary>The end-to-end scenario's batch handler: does nothing but count the batch's items (<see cref="HandledItems"/>); all succeed.</summary>
public sealed class CountedBatchHandler(HandledItems handled) : IFanOutBatchHandler<string>
{
    public Task HandleAsync(IReadOnlyList<FanOutBatchItem<string>> items, FanOutBatchContext context, CancellationToken cancellationToken)
    {
        handled.Add(items.Count);
        return Task.CompletedTask;
    }
}
