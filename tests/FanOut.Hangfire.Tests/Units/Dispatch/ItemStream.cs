using FanOut.Hangfire.Items;

namespace FanOut.Hangfire.Tests.Units.Dispatch;

/// <summary>
/// Items as a dispatch reads them, counting how many it pulled; <c>beforeItem</c> is told the number of each item
/// before it is pulled, and may throw to fail the stream there. Each item is ready at once, so a dispatch reading it
/// runs on until it waits for a commit. The token is ignored, as a source is free to do.
/// </summary>
internal sealed class ItemStream(IEnumerable<string> keys, Action<long>? beforeItem = null) : IAsyncEnumerable<EncodedItem>
{
    private readonly Action<long>? _beforeItem = beforeItem;

    /// <summary>Gets how many items were pulled from the stream.</summary>
    public long Pulled { get; private set; }

    /// <summary>The items <c>t-1</c> to <c>t-{count}</c>.</summary>
    public static IEnumerable<string> Keys(int count) => Enumerable.Range(1, count).Select(i => $"t-{i}");

    public static EncodedItem Item(string key) => new(key, $"\"{key}\"");

    public IAsyncEnumerator<EncodedItem> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new Enumerator(this, keys.GetEnumerator());

    private sealed class Enumerator(ItemStream stream, IEnumerator<string> keys) : IAsyncEnumerator<EncodedItem>
    {
        public EncodedItem Current { get; private set; }

        public ValueTask<bool> MoveNextAsync()
        {
            stream._beforeItem?.Invoke(stream.Pulled + 1);
            if (!keys.MoveNext())
            {
                return ValueTask.FromResult(false);
            }

            stream.Pulled++;
            Current = Item(keys.Current);
            return ValueTask.FromResult(true);
        }

        public ValueTask DisposeAsync()
        {
            keys.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
