using System.Runtime.ExceptionServices;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using Hangfire.Server;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// What a batch job does: reads which of its items already succeeded (a retry, a requeue), calls the batch handler with
/// the others, wrapped as every handler call is (<see cref="HandlerCalls"/>), and hands each item's outcome to the state
/// change that follows (<see cref="BatchAttempts"/>). Items that failed fail the attempt: the handler's own exception when
/// it threw, else a <see cref="BatchItemsFailedException"/> naming them; only they are retried.
/// </summary>
internal sealed class BatchExecutor(HandlerCalls calls, TimeProvider time) : IBatchJobExecutor
{
    public async Task ExecuteAsync(BatchJobArgs args, IServiceProvider services, PerformContext? context, CancellationToken cancellationToken)
    {
        var handler = calls.Find(args.HandlerId, args.RunId, $"the batch of {args.Count} items from '{args.ItemKeys[0]}'", batch: true);
        var jobId = context?.BackgroundJob.Id ?? string.Empty;
        var stored = context is null ? BatchOutcomes.None : BatchProgress.Read(context.Connection, jobId);
        var entries = Enumerable.Range(0, args.Count)
            .Where(i => !stored.Done.Contains(i))
            .Select(i => new BatchEntry(i, args.ItemKeys[i], args.ItemsJson[i]))
            .ToList();
        if (entries.Count == 0)
        {
            // Every item succeeded in earlier attempts (the job was requeued after its last state change was lost).
            return;
        }

        var attempt = HandlerCalls.AttemptOf(context);
        var batchContext = new FanOutBatchContext(args.RunId, handler.EventName, handler.Id, args.BatchKey, args.Count, attempt, jobId);
        var site = new CallSite(
            handler,
            args.Lead,
            args.RunId,
            jobId,
            attempt,
            $"a batch of {entries.Count} items from {entries[0].Key}",
            [KeyValuePair.Create("FanOutBatchSize", (object)entries.Count), KeyValuePair.Create("FanOutBatchKey", (object)(args.BatchKey ?? string.Empty))],
            [KeyValuePair.Create("fanout.batch_size", (object?)entries.Count), KeyValuePair.Create("fanout.batch_key", (object?)args.BatchKey), KeyValuePair.Create("fanout.item_key", (object?)entries[0].Key)]);

        IReadOnlyDictionary<int, Exception> failed = new Dictionary<int, Exception>();
        await calls.RunAsync(
            site,
            context,
            async token => failed = await handler.Batch!.Invoker.InvokeAsync(
                services,
                entries,
                batchContext,
                entry => new FanOutContext(args.RunId, handler.EventName, handler.Id, entry.Key, attempt, jobId),
                token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

        if (context is not null)
        {
            var succeeded = entries.Where(e => !failed.ContainsKey(e.Index)).Select(e => e.Index).ToList();
            BatchAttempts.Record(context.Storage, jobId, new BatchAttempt(stored.Done, succeeded, failed, time.GetUtcNow().UtcTicks) { HadProgress = !stored.IsEmpty });
        }

        if (failed.Count == 0)
        {
            return;
        }

        var thrown = failed.Values.Distinct().ToList();
        if (thrown.Count == 1 && failed.Count == entries.Count)
        {
            // The handler threw: its exception is the attempt's, as an item handler's would be.
            ExceptionDispatchInfo.Capture(thrown[0]).Throw();
        }

        throw new BatchItemsFailedException(handler.Id, entries.Count, failed.Select(f => (args.ItemKeys[f.Key], f.Value)).ToList());
    }
}
