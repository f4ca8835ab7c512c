namespace FanOut.Hangfire.Tests.Units.Dispatch;

/// <summary>A handler to declare: the dispatch tests create no jobs, so it is never called.</summary>
public sealed class NoopHandler : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
