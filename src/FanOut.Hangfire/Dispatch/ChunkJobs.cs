using FanOut.Hangfire.Items;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Common;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// The child jobs one chunk makes, in order: for each item, one job per item handler; and for each batch handler, its
/// batches. A batch takes items of the chunk in their order, at most the handler's <see cref="HandlerBatch.MaxSize"/>,
/// and only items that share its batch key and its limit keys, so that the batch's first item speaks for all of them.
/// An item whose batch key cannot be computed gets a batch of its own that fails at once, saying why.
/// </summary>
internal static class ChunkJobs
{
    public static List<PlannedJob> Plan(HangfireServices hangfire, string runId, RegisteredEvent @event, IReadOnlyList<EncodedItem> items)
    {
        // The item handlers, once: the loop below runs for every item of every chunk.
        var itemHandlers = @event.Handlers.Where(h => h.Batch is null).ToList();
        var planned = new List<PlannedJob>((items.Count * itemHandlers.Count) + @event.Handlers.Count - itemHandlers.Count);
        foreach (var item in items)
        {
            foreach (var handler in itemHandlers)
            {
                var job = ItemJobCodec.Instance.Create(hangfire, new ItemJobArgs(handler.Id, runId, item.Key, item.Json), handler.Options.Queue);
                planned.Add(new PlannedJob(job, handler, item.Key, item.Json, null));
            }
        }

        foreach (var handler in @event.Handlers.Where(h => h.Batch is not null))
        {
            foreach (var (batchKey, members, problem) in BatchesOf(handler, items))
            {
                var args = new BatchJobArgs(handler.Id, runId, batchKey, members.Select(m => m.Key).ToList(), members.Select(m => m.Json).ToList());
                planned.Add(new PlannedJob(BatchJobCodec.Instance.Create(hangfire, args, handler.Options.Queue), handler, members[0].Key, members[0].Json, problem));
            }
        }

        return planned;
    }

    private static IEnumerable<(string? BatchKey, List<EncodedItem> Items, string? Problem)> BatchesOf(RegisteredHandler handler, IReadOnlyList<EncodedItem> items)
    {
        var batch = handler.Batch!;
        var keyed = batch.HasKey || handler.Limit is { HasConcurrencyKey: true } or { HasThrottleKey: true };
        var open = new Dictionary<string, OpenBatch>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var item in items)
        {
            var group = string.Empty;
            string? batchKey = null;
            string? problem = null;
            if (keyed)
            {
                var keyedItem = batch.Keyed(item.Key, item.Json);
                batchKey = batch.HasKey ? batch.KeyOf(handler.Id, keyedItem, out problem) : null;
                if (problem is not null)
                {
                    yield return (null, [item], problem);
                    continue;
                }

                // A bad limit key is told apart by the flow control when the batch arrives at its limit.
                var limitKeys = handler.Limit?.KeysOf(handler.Id, keyedItem) ?? LimitKeys.None;
                group = limitKeys.Problem is not null ? "\u0001" + item.Key : $"{batchKey}\u0000{limitKeys.Concurrency}\u0000{limitKeys.Throttle}";
            }

            if (open.TryGetValue(group, out var full) && full.Bytes + item.Json.Length > HandlerBatch.MaxBytes)
            {
                // The stored job stays small enough for any storage: a batch closes early rather than hold more.
                yield return (full.BatchKey, full.Items, null);
                open.Remove(group);
                order.Remove(group);
            }

            if (!open.TryGetValue(group, out var current))
            {
                current = new OpenBatch(batchKey, new List<EncodedItem>(Math.Min(batch.MaxSize, items.Count)));
                open[group] = current;
                order.Add(group);
            }

            current.Items.Add(item);
            current.Bytes += item.Json.Length;
            if (current.Items.Count == batch.MaxSize)
            {
                yield return (current.BatchKey, current.Items, null);
                open.Remove(group);
                order.Remove(group);
            }
        }

        foreach (var group in order)
        {
            yield return (open[group].BatchKey, open[group].Items, null);
        }
    }
}

/// <summary>A batch being filled: its key, its items, and the length of their JSON so far.</summary>
internal sealed class OpenBatch(string? batchKey, List<EncodedItem> items)
{
    public string? BatchKey { get; } = batchKey;

    public List<EncodedItem> Items { get; } = items;

    public long Bytes { get; set; }
}

/// <summary>One child job of a chunk: the job, its handler, the item that speaks for it, and why it fails at once, if it does.</summary>
internal sealed record PlannedJob(Job Job, RegisteredHandler Handler, string LeadKey, string LeadJson, string? Problem);
