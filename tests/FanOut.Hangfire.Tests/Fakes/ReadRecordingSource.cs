using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>Every read of a source: the context it was given, in order.</summary>
public sealed class SourceReads
{
    public ConcurrentQueue<FanOutSourceContext> Contexts { get; } = new();
}

/// <summary>Streams the test's items, as <see cref="ListSource"/> does, and records the context of each read.</summary>
public sealed class ReadRecordingSource(TestItems items, SourceReads reads) : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        reads.Contexts.Enqueue(context);
        foreach (var id in items.Ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }

        await Task.CompletedTask;
    }
}
