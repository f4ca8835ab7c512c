using System.Text;
using System.Text.Json;

namespace FanOut.Hangfire.Items;

/// <summary>Turns items into what a child job stores, rejecting null, oversized and unreadable items with a clear message.</summary>
internal sealed class ItemEncoder(string eventName, Type eventItemType, int maxItemBytes)
{
    public EncodedItem Encode<TItem>(TItem item, long position, string paramName = "items")
    {
        if (item is null)
        {
            throw new ArgumentException($"Item #{position} sent as event '{eventName}' is null; items must not be null.", paramName);
        }

        string json;
        try
        {
            json = ItemJson.Serialize(item);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new ArgumentException($"Item #{position} sent as event '{eventName}' cannot be written as JSON: {ex.Message}", paramName, ex);
        }

        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > maxItemBytes)
        {
            throw new ArgumentException(
                $"Item #{position} sent as event '{eventName}' is {bytes} bytes of JSON, over the limit of {maxItemBytes} (FanOutOptions.MaxItemBytes). Send an ID and let the handler load the rest.",
                paramName);
        }

        if (typeof(TItem) != eventItemType)
        {
            EnsureReadableAs(json, position, paramName);
        }

        return new EncodedItem(ItemJson.KeyOf(json), json);
    }

    private void EnsureReadableAs(string json, long position, string paramName)
    {
        try
        {
            if (ItemJson.Deserialize(json, eventItemType) is null)
            {
                throw new JsonException("it reads back as null");
            }
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new ArgumentException(
                $"Item #{position} sent as event '{eventName}' cannot be read as {eventItemType.Name}, the item type of its handlers: {ex.Message}",
                paramName,
                ex);
        }
    }
}
