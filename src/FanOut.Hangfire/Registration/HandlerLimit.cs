namespace FanOut.Hangfire.Registration;

/// <summary>
/// How a handler's jobs are flow-controlled: the budget they draw on and the keys computed from each item. A key is
/// checked where it is computed (<see cref="KeysOf(string, KeyedItem)"/>); a bad one fails that item's job, never the run.
/// </summary>
internal sealed class HandlerLimit(
    RegisteredLimit budget,
    Type itemType,
    Func<object?, string?>? concurrencyKey,
    Func<object?, string?>? throttleKey)
{
    public const int MaxKeyLength = 200;

    public RegisteredLimit Budget { get; } = budget;

    public bool HasConcurrencyKey => concurrencyKey is not null;

    public bool HasThrottleKey => throttleKey is not null;

    /// <summary>
    /// The item's keys: (concurrency key, throttle key), each empty when the handler has no such key; or the reason the
    /// item cannot be flow-controlled, naming the handler, the item and what is wrong.
    /// </summary>
    public LimitKeys KeysOf(string handlerId, string itemKey, string itemJson) => KeysOf(handlerId, new KeyedItem(itemType, itemKey, itemJson));

    /// <inheritdoc cref="KeysOf(string, string, string)"/>
    public LimitKeys KeysOf(string handlerId, KeyedItem keyed)
    {
        if (concurrencyKey is null && throttleKey is null)
        {
            return LimitKeys.None;
        }

        var item = keyed.Read(out var error);
        if (error is not null)
        {
            return LimitKeys.Invalid($"Handler '{handlerId}' cannot read item '{keyed.Key}' to compute its limit key: {error.Message}");
        }

        var concurrency = Compute(concurrencyKey, "concurrency", handlerId, keyed.Key, item, out var problem);
        if (problem is not null)
        {
            return LimitKeys.Invalid(problem);
        }

        var throttle = Compute(throttleKey, "throttle", handlerId, keyed.Key, item, out problem);
        return problem is not null ? LimitKeys.Invalid(problem) : new LimitKeys(concurrency, throttle, null);
    }

    /// <summary>A key function's value for an item, checked: never null, empty or over <see cref="MaxKeyLength"/>.</summary>
    internal static string Compute(Func<object?, string?>? key, string which, string handlerId, string itemKey, object? item, out string? problem)
    {
        problem = null;
        if (key is null)
        {
            return string.Empty;
        }

        string? value;
        try
        {
            value = key(item);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            problem = $"The {which} key function of handler '{handlerId}' threw for item '{itemKey}': {ex.GetType().Name}: {ex.Message}";
            return string.Empty;
        }

        if (string.IsNullOrEmpty(value))
        {
            problem = $"The {which} key function of handler '{handlerId}' returned {(value is null ? "null" : "an empty string")} for item '{itemKey}'; every item needs a key.";
        }
        else if (value.Length > MaxKeyLength)
        {
            problem = $"The {which} key of handler '{handlerId}' for item '{itemKey}' is {value.Length} characters long; keys are at most {MaxKeyLength}.";
        }

        return value ?? string.Empty;
    }
}

/// <summary>An item's limit keys (empty when the handler has none), or why it has none it can use.</summary>
internal sealed record LimitKeys(string Concurrency, string Throttle, string? Problem)
{
    public static readonly LimitKeys None = new(string.Empty, string.Empty, null);

    public static LimitKeys Invalid(string problem) => new(string.Empty, string.Empty, problem);
}
