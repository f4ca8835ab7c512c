namespace FanOut.Hangfire.Testing;

/// <summary>Items a test puts in, streamed back in order.</summary>
public sealed class TestItems
{
    public List<string> Ids { get; } = [];

    public static TestItems Numbered(int count, string prefix = "item-")
    {
        var items = new TestItems();
        items.Ids.AddRange(Enumerable.Range(0, count).Select(i => $"{prefix}{i:D6}"));
        return items;
    }
}

public sealed class ListSource(TestItems items) : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var id in items.Ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }

        await Task.CompletedTask;
    }
}
