using System.ComponentModel;
using Hangfire;
using Hangfire.Server;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The Hangfire job behind every batch of a batch handler: many items of one run, each with an outcome of its own. It
/// stores the handler id, the run id, the batch key and the items' keys and JSON, never a user type name; its full
/// name and method signature are a stored contract that never changes once released. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FanOutBatchJob
{
    private readonly IBatchJobExecutor _executor;
    private readonly IServiceProvider _services;

    internal FanOutBatchJob(IBatchJobExecutor executor, IServiceProvider services)
    {
        _executor = executor;
        _services = services;
    }

    /// <summary>Calls the batch handler with the items that have no outcome yet.</summary>
    /// <param name="handlerId">The handler's id.</param>
    /// <param name="runId">The run the items belong to.</param>
    /// <param name="batchKey">The key the items share, or null when the handler has no batch key.</param>
    /// <param name="itemKeys">The items' keys, in dispatch order.</param>
    /// <param name="itemsJson">The items' JSON, in the same order.</param>
    /// <param name="context">Supplied by Hangfire.</param>
    /// <param name="cancellationToken">Supplied by Hangfire; fires on server shutdown.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    [BatchDisplayName]
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    [FanOutRetry]
    [RunOutcomes]
    [RunCancellation]
    [FlowControl]
    public Task ExecuteAsync(
        string handlerId,
        string runId,
        string? batchKey,
        string[] itemKeys,
        string[] itemsJson,
        PerformContext? context,
        CancellationToken cancellationToken) =>
        _executor.ExecuteAsync(new BatchJobArgs(handlerId, runId, batchKey, itemKeys, itemsJson), _services, context, cancellationToken);
}
