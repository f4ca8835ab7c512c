namespace FanOut.Hangfire.Benchmarks;

/// <summary>The end-to-end scenario's item handler: does nothing but count the item (<see cref="HandledItems"/>).</summary>
public sealed class CountedHandler(HandledItems handled) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        handled.Add(1);
        return Task.CompletedTask;
    }
}
