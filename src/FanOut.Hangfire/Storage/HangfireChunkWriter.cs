using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Execution;
using FanOut.Hangfire.Registration;
using Hangfire;
using Hangfire.Storage;

namespace FanOut.Hangfire.Storage;

/// <summary>
/// The generic path, for any Hangfire storage. Jobs are created the way Hangfire's own client creates them (client
/// filters, then a job without state that expires unless initialized); then one transaction moves every job of the
/// chunk to Enqueued through Hangfire's state machine and commits the checkpoint with them. A crash before that commit
/// leaves only uninitialized jobs, which never run and expire; the retry starts again from the last checkpoint.
/// It commits before it returns.
/// </summary>
internal sealed class HangfireChunkWriter(HangfireServices hangfire) : IChunkWriter
{
    public Task Write(
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<DispatchItem> chunk,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> inSameTransaction,
        Task previousCommit)
    {
        // Chunks commit in order, and not after a chunk that failed.
        previousCommit.GetAwaiter().GetResult();
        WriteNow(connection, runId, @event, chunk, parameters, inSameTransaction);
        return Task.CompletedTask;
    }

    /// <summary>Creates the chunk's jobs and commits them, with what <paramref name="inSameTransaction"/> writes, on <paramref name="connection"/>.</summary>
    public void WriteNow(
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<DispatchItem> chunk,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> inSameTransaction)
    {
        var created = new List<(BackgroundJob Job, RegisteredHandler Handler)>(chunk.Count * @event.Handlers.Count);
        foreach (var item in chunk)
        {
            foreach (var handler in @event.Handlers)
            {
                var job = ItemJobs.Create(hangfire, handler, runId, item);
                created.Add((hangfire.CreateUninitialized(connection, job, parameters.ToDictionary()), handler));
            }
        }

        using var transaction = connection.CreateWriteTransaction();
        foreach (var (backgroundJob, handler) in created)
        {
            hangfire.Enqueue(connection, transaction, backgroundJob, handler.Options.Queue, $"Dispatched by run {runId}");
        }

        inSameTransaction(transaction);
        transaction.Commit();
    }
}
