using System.Data;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// Sends the rows of a chunk's jobs to PostgreSQL on another thread, a batch at a time and in order, while Hangfire's
/// state machine goes on with the jobs after them: the database inserts one batch as the next is decided and serialized. Everything
/// goes into one database transaction, which <see cref="BulkTransaction"/> finishes once the sender is
/// <see cref="Idle"/>. The first failure stops the batches after it and fails <see cref="Idle"/>; disposing without
/// committing rolls back.
/// </summary>
internal sealed class RowSender(NpgsqlConnection database, ChunkStatements statements) : IDisposable
{
    private Task _sending = Task.CompletedTask;
    private NpgsqlTransaction? _transaction;

    public void Send(JobRowSet rows)
    {
        var previous = _sending;
        _sending = Task.Run(() => WriteAfterAsync(previous, rows));
    }

    /// <summary>Waits until every batch sent so far is written; the connection is then the caller's again.</summary>
    public void WaitIdle() => _sending.GetAwaiter().GetResult();

    /// <summary>Completes when every batch sent so far is written, and fails with the first failure.</summary>
    public Task Idle => _sending;

    /// <summary>The open transaction holding the batches; call once <see cref="Idle"/> completed.</summary>
    public NpgsqlTransaction Transaction => _transaction ??= database.BeginTransaction(IsolationLevel.ReadCommitted);

    public void Dispose()
    {
        try
        {
            _sending.Wait();
        }
        catch (AggregateException)
        {
            // The chunk's commit failed with it, or the chunk is being given up for another reason; either way it rolls back.
        }

        _transaction?.Dispose();
    }

    // Asynchronous all the way: a thread-pool thread blocked on the database while the dispatching thread waits for it
    // starves a small pool, and the pool adds threads only slowly.
    private async Task WriteAfterAsync(Task previous, JobRowSet rows)
    {
        await previous.ConfigureAwait(false);
        _transaction ??= await database.BeginTransactionAsync(IsolationLevel.ReadCommitted).ConfigureAwait(false);
        var batch = new NpgsqlBatch(database, _transaction);
        await using var _ = batch.ConfigureAwait(false);
        foreach (var row in statements.Inserts(rows))
        {
            batch.BatchCommands.Add(row);
        }

        await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
