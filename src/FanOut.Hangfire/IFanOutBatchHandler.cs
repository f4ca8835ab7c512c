namespace FanOut.Hangfire;

/// <summary>
/// Handles many items of an event in one call: up to <see cref="FanOutHandlerOptions.MaxBatchSize"/> items of one run,
/// in one Hangfire background job, each item with an outcome of its own.
/// </summary>
/// <typeparam name="TItem">The item type of the event the handler listens to.</typeparam>
/// <remarks>
/// <para>
/// Mark the items that failed with <see cref="FanOutBatchItem{TItem}.Fail"/>: only those are retried, under the
/// handler's retry policy, and an item that succeeded is not handed to the handler again in that run. Returning
/// without marking an item means it succeeded. Throwing fails every item of the call that was not marked already, with
/// the exception thrown.
/// </para>
/// <para>
/// The handler is resolved from dependency injection in a scope of its own for every job. Execution is at least once
/// (Hangfire's semantics): a worker that dies mid-call hands the whole call's items to the next attempt. Use each item's
/// <see cref="FanOutContext.IdempotencyKey"/> to make side effects idempotent.
/// </para>
/// </remarks>
public interface IFanOutBatchHandler<TItem>
{
    /// <summary>Handles the items of one batch.</summary>
    /// <param name="items">The batch's items still to handle in this attempt, in the order they were dispatched; never empty.</param>
    /// <param name="context">The run, handler, batch key, attempt number and job of this call.</param>
    /// <param name="cancellationToken">Fires when the Hangfire server shuts down, or when the run is cancelled.</param>
    /// <returns>A task that completes when the batch is handled.</returns>
    Task HandleAsync(IReadOnlyList<FanOutBatchItem<TItem>> items, FanOutBatchContext context, CancellationToken cancellationToken);
}
