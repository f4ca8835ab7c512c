namespace FanOut.Hangfire.Registration;

/// <summary>
/// An item as a handler's key functions see it (batch key, limit keys): read from its JSON once, on first use, however
/// many keys are computed from it, and the reading's failure kept for each key to report in its own words.
/// </summary>
internal sealed class KeyedItem(Type itemType, string itemKey, string itemJson)
{
    private bool _read;
    private object? _value;
    private Exception? _error;

    public string Key { get; } = itemKey;

    /// <summary>The item, or the reason it cannot be read (<paramref name="error"/>, null when it could).</summary>
    public object? Read(out Exception? error)
    {
        if (!_read)
        {
            try
            {
                _value = Items.ItemJson.Deserialize(itemJson, itemType);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _error = ex;
            }

            _read = true;
        }

        error = _error;
        return _value;
    }
}
