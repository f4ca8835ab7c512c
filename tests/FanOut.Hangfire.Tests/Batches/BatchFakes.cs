using System.Collections.Concurrent;

namespace FanOut.Hangfire.Tests.Batches;

/// <summary>What the batch handlers of one test saw: every call, with its items, batch key and attempt.</summary>
public sealed class BatchCalls
{
    private int _running;
    private int _peak;

    public ConcurrentQueue<(string Handler, IReadOnlyList<string> Keys, string? BatchKey, int BatchSize, int Attempt)> Calls { get; } = new();

    /// <summary>Items whose key starts with this fail every attempt while it is set.</summary>
    public string? AlwaysFails { get; set; }

    /// <summary>How long each call takes, so calls overlap when they may.</summary>
    public TimeSpan CallTime { get; set; }

    /// <summary>When set, a call waits on its token until the test ends it (a cancel).</summary>
    public bool HoldUntilCancelled { get; set; }

    public int TokensFired;

    public int Peak => Volatile.Read(ref _peak);

    public int Running => Volatile.Read(ref _running);

    public IEnumerable<string> KeysHandled(string handler) => Calls.Where(c => c.Handler == handler).SelectMany(c => c.Keys);

    public int TimesHandled(string key) => Calls.Count(c => c.Keys.Contains(key));

    internal async Task RunAsync(string handler, IReadOnlyList<string> keys, FanOutBatchContext context, CancellationToken cancellationToken)
    {
        Calls.Enqueue((handler, keys, context.BatchKey, context.BatchSize, context.Attempt));
        var running = Interlocked.Increment(ref _running);
        InterlockedMax(ref _peak, running);
        try
        {
            if (HoldUntilCancelled)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref TokensFired);
                    throw;
                }
            }

            if (CallTime > TimeSpan.Zero)
            {
                await Task.Delay(CallTime, cancellationToken);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

/// <summary>
/// A batch handler whose items say what happens to them: <c>bad-*</c> fail while <see cref="BatchCalls.AlwaysFails"/>
/// says so, <c>flaky-*</c> fail their first attempt, <c>throw</c> makes the whole call throw on its first attempt.
/// </summary>
public sealed class ScriptedBatchHandler(BatchCalls calls) : IFanOutBatchHandler<string>
{
    public async Task HandleAsync(IReadOnlyList<FanOutBatchItem<string>> items, FanOutBatchContext context, CancellationToken cancellationToken)
    {
        await calls.RunAsync(context.HandlerId, items.Select(i => i.Context.ItemKey).ToList(), context, cancellationToken);
        if (context.Attempt == 1 && items.Any(i => i.Item == "throw"))
        {
            throw new TimeoutException($"the bulk API timed out for the batch of {items.Count} from {items[0].Item}");
        }

        foreach (var item in items)
        {
            if ((calls.AlwaysFails is { } prefix && item.Item.StartsWith(prefix, StringComparison.Ordinal))
                || (item.Item.StartsWith("flaky-", StringComparison.Ordinal) && context.Attempt == 1))
            {
                item.Fail(new InvalidOperationException($"{item.Item} was refused (attempt {context.Attempt})"));
            }
        }
    }
}

/// <summary>An item of a workspace; its key is its id.</summary>
public sealed record WorkspaceItem(string Workspace, string Id);

/// <summary>A batch handler of workspace items that records each call.</summary>
public sealed class WorkspaceBatchHandler(BatchCalls calls) : IFanOutBatchHandler<WorkspaceItem>
{
    public Task HandleAsync(IReadOnlyList<FanOutBatchItem<WorkspaceItem>> items, FanOutBatchContext context, CancellationToken cancellationToken) =>
        calls.RunAsync(context.HandlerId, items.Select(i => i.Item.Workspace + "/" + i.Item.Id).ToList(), context, cancellationToken);
}
