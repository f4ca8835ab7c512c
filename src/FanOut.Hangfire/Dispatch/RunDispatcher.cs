using FanOut.Hangfire.Execution;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Streams items into child jobs one chunk at a time: memory holds one chunk, and each chunk commits with the
/// checkpoint that says how far the run got, so a retried dispatch resumes exactly where the last commit left it.
/// Serves cron dispatches and client sends alike.
/// </summary>
internal sealed class RunDispatcher(
    HangfireServices hangfire,
    IChunkWriter writer,
    RunStore runs,
    FanOutRegistry registry,
    DispatchHooks hooks)
{
    public async Task<DispatchCheckpoint> DispatchAsync(
        string runId,
        RegisteredEvent @event,
        IAsyncEnumerable<DispatchItem> items,
        DispatchCheckpoint resumeFrom,
        ICommitGuard? guard,
        Action<DispatchCheckpoint>? committed,
        CancellationToken cancellationToken)
    {
        var chunkSize = registry.Options.ChunkSize;
        var chunk = new List<DispatchItem>(chunkSize);
        var checkpoint = resumeFrom;
        long position = 0;

        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            // Streams are not obliged to honour the token; the dispatch is.
            cancellationToken.ThrowIfCancellationRequested();
            position++;
            if (position <= resumeFrom.Items)
            {
                if (position == resumeFrom.Items && resumeFrom.LastKey is not null && item.Key != resumeFrom.LastKey)
                {
                    throw new InvalidOperationException(
                        $"Run {runId} cannot resume: item #{position} was '{resumeFrom.LastKey}' when it was dispatched and is now '{item.Key}'. " +
                        "A source must yield the same items in the same order for a run; order it by a stable key.");
                }

                continue;
            }

            chunk.Add(item);
            if (chunk.Count == chunkSize)
            {
                checkpoint = Commit(runId, @event, chunk, checkpoint, guard);
                committed?.Invoke(checkpoint);
                chunk.Clear();
            }
        }

        if (chunk.Count > 0)
        {
            checkpoint = Commit(runId, @event, chunk, checkpoint, guard);
            committed?.Invoke(checkpoint);
        }

        return checkpoint;
    }

    private DispatchCheckpoint Commit(
        string runId,
        RegisteredEvent @event,
        List<DispatchItem> chunk,
        DispatchCheckpoint checkpoint,
        ICommitGuard? guard)
    {
        var next = new DispatchCheckpoint(
            checkpoint.Items + chunk.Count,
            checkpoint.Jobs + ((long)chunk.Count * @event.Handlers.Count),
            chunk[^1].Key);

        guard?.EnsureHeld();
        using var connection = hangfire.Storage.GetConnection();
        writer.Write(connection, runId, @event, chunk, ItemJobParameters.ForChunk(), transaction =>
        {
            runs.WriteCheckpoint(transaction, runId, next);
            guard?.Write(transaction);
            hooks.ChunkCommitting?.Invoke(runId, new DispatchCheckpointInfo(next.Items, next.Jobs));
        });
        FanOutTelemetry.ItemsDispatched.Add(chunk.Count, FanOutTelemetry.Tag("fanout.event", @event.Name));
        return next;
    }
}
