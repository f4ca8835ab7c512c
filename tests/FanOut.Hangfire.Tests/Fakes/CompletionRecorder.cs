using System.Collections.Concurrent;

namespace FanOut.Hangfire.Tests.Fakes;

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
