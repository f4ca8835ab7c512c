using System.Collections.Concurrent;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Item keys that fail for good until a test removes them.</summary>
public sealed class BrokenItems
{
    public ConcurrentDictionary<string, bool> Keys { get; } = new();
}

/// <summary>Fails every attempt for the keys in <see cref="BrokenItems"/>.</summary>
public sealed class SometimesBrokenHandler(BrokenItems broken) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) =>
        broken.Keys.ContainsKey(item) ? throw new InvalidOperationException($"{item} is broken") : Task.CompletedTask;
}
