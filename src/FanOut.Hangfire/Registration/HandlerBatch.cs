namespace FanOut.Hangfire.Registration;

/// <summary>
/// How a batch handler's items are put together: at most <see cref="MaxSize"/> to a call, and, with a batch key, only
/// items of one key. The key is checked where it is computed (<see cref="KeyOf"/>), as a limit key is.
/// </summary>
internal sealed class HandlerBatch(int maxSize, Type itemType, Func<object?, string?>? key, IBatchHandlerInvoker invoker)
{
    /// <summary>The batch size when <see cref="FanOutHandlerOptions.MaxBatchSize"/> is not set.</summary>
    public const int DefaultMaxSize = 100;

    /// <summary>The most <see cref="FanOutHandlerOptions.MaxBatchSize"/> may be.</summary>
    public const int MaxSizeLimit = 1_000;

    /// <summary>The most JSON (in characters) a batch's items hold together; a batch that would hold more closes early.</summary>
    public const int MaxBytes = 1024 * 1024;

    public int MaxSize { get; } = maxSize;

    public bool HasKey => key is not null;

    public IBatchHandlerInvoker Invoker { get; } = invoker;

    /// <summary>An item of this handler, read at most once for all the keys computed from it.</summary>
    public KeyedItem Keyed(string itemKey, string itemJson) => new(itemType, itemKey, itemJson);

    /// <summary>The item's batch key (empty when the handler has none), or the reason it has none it can use.</summary>
    public string KeyOf(string handlerId, KeyedItem keyed, out string? problem)
    {
        problem = null;
        if (key is null)
        {
            return string.Empty;
        }

        var item = keyed.Read(out var error);
        if (error is not null)
        {
            problem = $"Handler '{handlerId}' cannot read item '{keyed.Key}' to compute its batch key: {error.Message}";
            return string.Empty;
        }

        return HandlerLimit.Compute(key, "batch", handlerId, keyed.Key, item, out problem);
    }
}
