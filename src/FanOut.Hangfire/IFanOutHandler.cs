namespace FanOut.Hangfire;

/// <summary>
/// Handles one item of an event. Each call runs as its own Hangfire background job, with its own retries.
/// </summary>
/// <typeparam name="TItem">The item type of the event the handler listens to.</typeparam>
/// <remarks>
/// The handler is resolved from dependency injection in a scope of its own for every job. Execution is
/// at least once (Hangfire's semantics): use <see cref="FanOutContext.IdempotencyKey"/> to make side effects
/// idempotent.
/// </remarks>
public interface IFanOutHandler<in TItem>
{
    /// <summary>Handles one item. Throwing fails the attempt; Hangfire retries it as configured for the handler.</summary>
    /// <param name="item">The item, read back from its JSON.</param>
    /// <param name="context">The run, handler, attempt number and idempotency key of this call.</param>
    /// <param name="cancellationToken">Fires when the Hangfire server shuts down.</param>
    /// <returns>A task that completes when the item is handled.</returns>
    Task HandleAsync(TItem item, FanOutContext context, CancellationToken cancellationToken);
}
