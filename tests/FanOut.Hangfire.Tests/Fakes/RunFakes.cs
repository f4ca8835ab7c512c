using System.Collections.Concurrent;

namespace FanOut.Hangfire.Tests.Fakes;

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

/// <summary>Records every completion it is told about.</summary>
public sealed class CompletionRecorder : IFanOutCompletionHandler
{
    private readonly ConcurrentQueue<FanOutCompletion> _completions = new();

    public IReadOnlyCollection<FanOutCompletion> Completions => _completions;

    public Task OnCompletedAsync(FanOutCompletion completion, CancellationToken cancellationToken)
    {
        _completions.Enqueue(completion);
        return Task.CompletedTask;
    }
}
