namespace FanOut.Hangfire.Benchmarks;

/// <summary>The FanOut handler of every benchmark: does nothing, so what is measured is the machinery around it.</summary>
public sealed class NoopHandler : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
