using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Items;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;

#pragma warning disable FANOUT0001 // The library's own use of its experimental lock seam.

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Streams items into child jobs one chunk at a time, and each chunk commits with the checkpoint that says how far the
/// run got, so a retried dispatch resumes exactly where the last commit left it. A writer may still be committing a
/// chunk while the next one is read and written (the PostgreSQL fast path does): chunks commit in order, none after one
/// that failed, and the caller hears of a checkpoint only once it committed. Memory holds at most two chunks.
/// Serves cron dispatches and client sends alike.
/// </summary>
internal sealed class RunDispatcher(
    HangfireServices hangfire,
    IFanOutChunkWriter writer,
    RunStore runs,
    FanOutRegistry registry,
    FanOutWarnings warnings,
    DispatchHooks hooks,
    FlowControl flow,
    Pauses pauses,
    IFanOutLimitLock locks)
{
    // Chunks that may still be committing while the next one is written (a writer that commits before it returns, as the
    // generic one does, never has any): the database commits one while Hangfire's state machine decides the next one's
    // jobs. Measured on two cores: one gives 35,000-37,000 jobs/s; two gave 29,000-41,000, with runs that vary more and
    // a tenth more peak memory.
    private const int MaxCommitting = 1;

    public async Task<DispatchCheckpoint> DispatchAsync(
        string runId,
        RegisteredEvent @event,
        IAsyncEnumerable<EncodedItem> items,
        DispatchCheckpoint resumeFrom,
        ICommitGuard? guard,
        Action<DispatchCheckpoint>? committed,
        CancellationToken cancellationToken)
    {
        var chunkSize = registry.Options.ChunkSize;
        var chunk = new List<EncodedItem>(chunkSize);

        // Chunks written and maybe still committing, oldest first; the writer commits them in order.
        var inFlight = new Queue<PendingChunk>();
        var last = PendingChunk.None(resumeFrom);
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
                    last = Write(runId, @event, chunk, last, guard);
                    inFlight.Enqueue(last);
                    chunk.Clear();
                    while (inFlight.Count > MaxCommitting)
                    {
                        await AwaitCommitAsync(@event, inFlight.Dequeue(), committed).ConfigureAwait(false);
                    }
                }
            }

            if (chunk.Count > 0)
            {
                last = Write(runId, @event, chunk, last, guard);
                inFlight.Enqueue(last);
            }

            while (inFlight.Count > 0)
            {
                await AwaitCommitAsync(@event, inFlight.Dequeue(), committed).ConfigureAwait(false);
            }

            return last.Checkpoint;
        }
        catch (Exception)
        {
            // What the caller reports as dispatched must be what committed: let every chunk written finish, whichever way.
            while (inFlight.Count > 0)
            {
                await AwaitCommitQuietlyAsync(@event, inFlight.Dequeue(), committed).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Writes <paramref name="chunk"/>, to commit after <paramref name="previous"/>; it may still be committing when this returns.</summary>
    private PendingChunk Write(
        string runId,
        RegisteredEvent @event,
        List<EncodedItem> chunk,
        PendingChunk previous,
        ICommitGuard? guard)
    {
        var next = new DispatchCheckpoint(
            previous.Checkpoint.Items + chunk.Count,
            previous.Checkpoint.Jobs + ((long)chunk.Count * @event.Handlers.Count),
            chunk[^1].Key);

        guard?.EnsureHeld();

        // Held from the cancel check until the chunk has committed (or failed); a cancel takes both lanes to record
        // itself, so a chunk that passed the check has committed before the cancel looks for the run's jobs, and none
        // passes it after. Chunks take the lanes in turn, so one is written while the one before it commits.
        var lane = 1 - previous.Lane;
        var chunkLock = ChunkLock.TryTake(locks, runId, lane);
        try
        {
            var commit = WriteHoldingLock(runId, @event, chunk, previous, next, guard);
            return new PendingChunk(commit, chunkLock?.ReleaseAfterAsync(commit) ?? commit, previous.Checkpoint, next, lane);
        }
        catch
        {
            chunkLock?.Dispose();
            throw;
        }
    }

    private Task WriteHoldingLock(
        string runId,
        RegisteredEvent @event,
        List<EncodedItem> chunk,
        PendingChunk previous,
        DispatchCheckpoint next,
        ICommitGuard? guard)
    {
        using var connection = hangfire.Storage.GetConnection();

        // One field read a chunk: a cancel stops the dispatch here, whichever process dispatches.
        if (RunStore.IsCancelled(connection, runId))
        {
            throw new RunCancelledException(runId);
        }

        var written = new FanOutChunk(
            hangfire,
            connection,
            runId,
            @event,
            [.. chunk], // the list is refilled with the next chunk while this one may still be committing
            JobParameters.ForChunk(),
            transaction =>
            {
                runs.WriteCheckpoint(transaction, runId, next);
                guard?.Write(transaction);
                hooks.ChunkCommitting?.Invoke(runId, new DispatchCheckpointInfo(next.Items, next.Jobs));
            },
            previous.Commit,
            message => warnings.Raise("chunk-writer:" + message, message),
            flow,
            pauses);
        Task commit;
        try
        {
            commit = writer.WriteAsync(written);
        }
        catch
        {
            written.FlowScope?.ReleaseLocks();
            throw;
        }

        if (written.FlowScope is { } scope)
        {
            commit = ReleaseLimitsAfterAsync(commit, scope);
        }

        return commit;
    }

    /// <summary>Once the chunk committed: fills the slots its limits have free, then lets the limits' locks go.</summary>
    private async Task ReleaseLimitsAfterAsync(Task commit, FlowScope scope)
    {
        try
        {
            await commit.ConfigureAwait(false);
            flow.AfterChunk(scope);
        }
        finally
        {
            scope.ReleaseLocks();
        }
    }

    private static async Task AwaitCommitAsync(RegisteredEvent @event, PendingChunk chunk, Action<DispatchCheckpoint>? committed)
    {
        await chunk.Settled.ConfigureAwait(false);
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
    private sealed class PendingChunk(Task commit, Task settled, DispatchCheckpoint before, DispatchCheckpoint after, int lane)
    {
        /// <summary>The writer's commit, which the next chunk's commits after.</summary>
        public Task Commit { get; } = commit;

        /// <summary>The commit, then its lane let go: what the dispatch waits for.</summary>
        public Task Settled { get; } = settled;

        public DispatchCheckpoint Checkpoint { get; } = after;

        public long Items => Checkpoint.Items - before.Items;

        /// <summary>The lane of <see cref="StorageKeys.ChunkLock"/> it holds until it has committed.</summary>
        public int Lane { get; } = lane;

        /// <summary>Where a dispatch starts: nothing to commit, the checkpoint it resumes from; its first chunk takes lane 0.</summary>
        public static PendingChunk None(DispatchCheckpoint at) => new(Task.CompletedTask, Task.CompletedTask, at, at, lane: 1);
    }
}
