namespace FanOut.Hangfire.Registration;

/// <summary>Calls a batch handler with its items read back from JSON, without reflection per call.</summary>
internal interface IBatchHandlerInvoker
{
    /// <summary>
    /// Calls the handler with <paramref name="entries"/> and returns the items that failed, by their place in the stored
    /// batch: those the handler marked failed, those that could not be read as the handler's item type (never handed to
    /// it), and, when the handler threw, every other one with the exception thrown. A cancellation of
    /// <paramref name="cancellationToken"/> that the handler let through is thrown, as an item handler's is.
    /// </summary>
    Task<IReadOnlyDictionary<int, Exception>> InvokeAsync(
        IServiceProvider services,
        IReadOnlyList<BatchEntry> entries,
        FanOutBatchContext context,
        Func<BatchEntry, FanOutContext> contextOf,
        CancellationToken cancellationToken);
}

/// <summary>One stored item of a batch: its place in the batch, its key and its JSON.</summary>
internal readonly record struct BatchEntry(int Index, string Key, string Json);
