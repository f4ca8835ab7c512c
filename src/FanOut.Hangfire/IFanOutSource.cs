namespace FanOut.Hangfire;

/// <summary>
/// Streams the items of a cron fan-out: usually the IDs of the work (tenants, accounts, notifications).
/// </summary>
/// <typeparam name="TItem">
/// The item type: a string ID, or any type that survives a JSON round trip. Items should be small;
/// the handler loads what it needs.
/// </typeparam>
/// <remarks>
/// The source is resolved from dependency injection in a scope of its own for every dispatch.
/// When a dispatch is interrupted and retried, the items already dispatched are skipped by position,
/// so a source must yield the same items in the same order for the same run (order by a stable key).
/// </remarks>
public interface IFanOutSource<out TItem>
{
    /// <summary>Streams the items to dispatch for one run. Items are read one chunk at a time.</summary>
    /// <param name="context">The fan-out and run being dispatched.</param>
    /// <param name="cancellationToken">Fires when the server shuts down or the dispatch is aborted.</param>
    /// <returns>The items, in a stable order.</returns>
    IAsyncEnumerable<TItem> GetItemsAsync(FanOutSourceContext context, CancellationToken cancellationToken);
}
