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

        // The chunk written last, which may still be committing while the next one is written: never more than one.
        var pending = PendingChunk.None(resumeFrom);
        long position = 0;
        try
        {
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
                    pending = await WriteAsync(runId, @event, chunk, pending, guard, committed).ConfigureAwait(false);
                    chunk.Clear();
                }
            }

            if (chunk.Count > 0)
            {
                pending = await WriteAsync(runId, @event, chunk, pending, guard, committed).ConfigureAwait(false);
            }

            await AwaitCommitAsync(@event, pending, committed).ConfigureAwait(false);
            return pending.Checkpoint;
        }
        catch (Exception)
        {
            // What the caller reports as dispatched must be what committed: let the last chunk finish, whichever way.
            await AwaitCommitQuietlyAsync(@event, pending, committed).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="chunk"/>, to commit after <paramref name="previous"/>, and waits for
    /// <paramref name="previous"/> to commit before reading on: the chunk returned may still be committing.
    /// </summary>
    private async Task<PendingChunk> WriteAsync(
        string runId,
        RegisteredEvent @event,
        List<DispatchItem> chunk,
        PendingChunk previous,
        ICommitGuard? guard,
        Action<DispatchCheckpoint>? committed)
    {
        var next = new DispatchCheckpoint(
            previous.Checkpoint.Items + chunk.Count,
            previous.Checkpoint.Jobs + ((long)chunk.Count * @event.Handlers.Count),
            chunk[^1].Key);

        guard?.EnsureHeld();
        Task commit;
        using (var connection = hangfire.Storage.GetConnection())
        {
            commit = writer.Write(connection, runId, @event, chunk, ItemJobParameters.ForChunk(), transaction =>
            {
                runs.WriteCheckpoint(transaction, runId, next);
                guard?.Write(transaction);
                hooks.ChunkCommitting?.Invoke(runId, new DispatchCheckpointInfo(next.Items, next.Jobs));
            },
            previous.Commit);
        }

        var written = new PendingChunk(commit, previous.Checkpoint, next);
        await AwaitCommitAsync(@event, previous, committed).ConfigureAwait(false);
        return written;
    }

    private static async Task AwaitCommitAsync(RegisteredEvent @event, PendingChunk chunk, Action<DispatchCheckpoint>? committed)
    {
        if (chunk.Reported)
        {
            return;
        }

        await chunk.Commit.ConfigureAwait(false);
        chunk.Reported = true;
        FanOutTelemetry.ItemsDispatched.Add(chunk.Items, FanOutTelemetry.Tag("fanout.event", @event.Name));
        committed?.Invoke(chunk.Checkpoint);
    }

    private static async Task AwaitCommitQuietlyAsync(RegisteredEvent @event, PendingChunk chunk, Action<DispatchCheckpoint>? committed)
    {
        try
        {
            await AwaitCommitAsync(@event, chunk, committed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The chunk rolled back; the error that stopped the dispatch is the one to report.
        }
    }

    /// <summary>A chunk handed to the writer: its commit, and the checkpoints before and after it.</summary>
    private sealed class PendingChunk(Task commit, DispatchCheckpoint before, DispatchCheckpoint after)
    {
        public Task Commit { get; } = commit;

        public DispatchCheckpoint Checkpoint { get; } = after;

        public long Items => Checkpoint.Items - before.Items;

        /// <summary>True once its commit was awaited and reported to the caller.</summary>
        public bool Reported { get; set; }

        public static PendingChunk None(DispatchCheckpoint at) => new(Task.CompletedTask, at, at) { Reported = true };
    }
}
