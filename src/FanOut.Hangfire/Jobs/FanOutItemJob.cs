using System.ComponentModel;
using Hangfire;
using Hangfire.Server;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The Hangfire job behind every (item, handler) pair. It stores the handler id and the item's JSON, never a user type
/// name; its full name and method signature are a stored contract that never changes once released. Not meant to be
/// called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FanOutItemJob
{
    private readonly IItemJobExecutor _executor;
    private readonly IServiceProvider _services;

    internal FanOutItemJob(IItemJobExecutor executor, IServiceProvider services)
    {
        _executor = executor;
        _services = services;
    }

    /// <summary>Calls the handler with the item.</summary>
    /// <param name="handlerId">The handler's id.</param>
    /// <param name="runId">The run the item belongs to.</param>
    /// <param name="itemKey">The item's key.</param>
    /// <param name="itemJson">The item's JSON.</param>
    /// <param name="context">Supplied by Hangfire.</param>
    /// <param name="cancellationToken">Supplied by Hangfire; fires on server shutdown.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    [JobDisplayName("{0} · {2}")]
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    [FanOutRetry]
    [RunOutcomes]
    [RunCancellation]
    [FlowControl]
    public Task ExecuteAsync(
        string handlerId,
        string runId,
        string itemKey,
        string itemJson,
        PerformContext? context,
        CancellationToken cancellationToken) =>
        _executor.ExecuteAsync(new ItemJobArgs(handlerId, runId, itemKey, itemJson), _services, context, cancellationToken);
}
