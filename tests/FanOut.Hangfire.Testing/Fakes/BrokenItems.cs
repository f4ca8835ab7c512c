using System.Collections.Concurrent;

namespace FanOut.Hangfire.Testing;

/// <summary>Item keys that fail for good until a test removes them.</summary>
public sealed class BrokenItems
{
    public ConcurrentDictionary<string, bool> Keys { get; } = new();
}

/// <summary>Fails every attempt for the keys in <see cref="BrokenItems"/>; records the others.</summary>
public sealed class SometimesBrokenHandler(Recorder recorder, BrokenItems broken) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        if (broken.Keys.ContainsKey(item))
        {
            throw new InvalidOperationException($"{item} is broken");
        }

        recorder.Calls.Add((context.HandlerId, item, context));
        return Task.CompletedTask;
    }
}
