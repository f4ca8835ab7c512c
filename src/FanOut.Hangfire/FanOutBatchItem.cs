namespace FanOut.Hangfire;

/// <summary>One item of a batch handler's call, with its own context and outcome.</summary>
/// <typeparam name="TItem">The item type of the event.</typeparam>
public sealed class FanOutBatchItem<TItem>
{
    internal FanOutBatchItem(int index, TItem item, FanOutContext context)
    {
        Index = index;
        Item = item;
        Context = context;
    }

    /// <summary>Gets the item, read back from its JSON.</summary>
    public TItem Item { get; }

    /// <summary>
    /// Gets the item's own context: its key, and an <see cref="FanOutContext.IdempotencyKey"/> that is the same on every
    /// attempt, whatever batch the item comes in.
    /// </summary>
    public FanOutContext Context { get; }

    /// <summary>Gets the exception the item failed with in this call, or null while it has not failed.</summary>
    public Exception? Exception { get; private set; }

    /// <summary>Gets whether the item was marked failed in this call.</summary>
    public bool IsFailed => Exception is not null;

    /// <summary>The item's place in the stored batch, from 0.</summary>
    internal int Index { get; }

    /// <summary>
    /// Marks the item failed: it is retried under the handler's retry policy, alone with the other failed items of the
    /// batch, and shows with <paramref name="exception"/> among the run's failed items when its retries run out. Marking
    /// it again replaces the exception.
    /// </summary>
    /// <param name="exception">Why the item failed.</param>
    public void Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Exception = exception;
    }
}
