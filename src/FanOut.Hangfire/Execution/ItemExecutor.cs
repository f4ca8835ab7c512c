using FanOut.Hangfire.Jobs;
using Hangfire.Server;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// What a child job does: finds its handler, builds the call's context, and calls the handler with the item read back
/// from its JSON, wrapped as every handler call is (<see cref="HandlerCalls"/>).
/// </summary>
internal sealed class ItemExecutor(HandlerCalls calls) : IItemJobExecutor
{
    public Task ExecuteAsync(ItemJobArgs args, IServiceProvider services, PerformContext? context, CancellationToken cancellationToken)
    {
        var (handlerId, runId, itemKey, itemJson) = (args.HandlerId, args.RunId, args.ItemKey, args.ItemJson);
        var handler = calls.Find(handlerId, runId, $"item '{itemKey}'", batch: false);
        var jobId = context?.BackgroundJob.Id ?? string.Empty;
        var attempt = HandlerCalls.AttemptOf(context);
        var fanOutContext = new FanOutContext(runId, handler.EventName, handlerId, itemKey, attempt, jobId);
        var site = new CallSite(
            handler,
            args,
            runId,
            jobId,
            attempt,
            $"item {itemKey}",
            [KeyValuePair.Create("FanOutItemKey", (object)itemKey)],
            [KeyValuePair.Create("fanout.item_key", (object?)itemKey)]);
        return calls.RunAsync(site, context, token => handler.Invoker.InvokeAsync(services, itemJson, fanOutContext, token), cancellationToken);
    }
}
