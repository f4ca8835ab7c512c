using System.Globalization;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The write transaction of a <see cref="BulkConnection"/>. It records what Hangfire's state machine writes job by job;
/// as soon as the state machine moves on from a job, the job's rows are final and go to PostgreSQL in batches (see
/// <see cref="RowSender"/>), inside one database transaction. <see cref="Commit"/> sends the rest and leaves the commit
/// to the background, after the previous chunk's: there it runs the actions registered with <see cref="BeforeCommit"/>
/// (the dispatcher's checkpoint, lease renewal and fault-injection hook) inside that transaction, writes what they
/// wrote, commits, wakes the workers, and refreshes the queue table's statistics when enough jobs were queued
/// (<see cref="QueueStatistics"/>). A write it cannot make marks the chunk unsupported; <see cref="Commit"/> (or,
/// for a write made by those actions, the commit) then throws <see cref="UnsupportedWriteException"/> and nothing is
/// committed.
/// </summary>
internal sealed class BulkTransaction(BulkConnection connection) : RecordingTransaction
{
    // Jobs a batch of rows holds. Large batches cost the database least per row (measured: 512 beats 128 by a fifth),
    // and a default chunk (500 jobs) goes in one; a larger chunk is sent a batch at a time while it is still recorded.
    private const int BatchSize = 512;

    private readonly List<Action<IWriteOnlyTransaction>> _beforeCommit = [];
    private readonly List<RecordedJob> _sealed = [];
    private RecordedJob? _current;

    private ChunkRecording Recording => connection.Recording;

    /// <summary>Runs <paramref name="action"/> inside the database transaction, after the jobs are written and before it commits.</summary>
    public void BeforeCommit(Action<IWriteOnlyTransaction> action) => _beforeCommit.Add(action);

    /// <summary>
    /// Sends the rest of the chunk's rows and returns; <see cref="BulkConnection.Committing"/> then finishes the chunk in
    /// the background: once the previous chunk committed and every row is written, it runs the actions registered with
    /// <see cref="BeforeCommit"/>, writes what they wrote, commits, and wakes the workers.
    /// </summary>
    public override void Commit()
    {
        ThrowIfUnsupported();
        foreach (var job in Recording.Jobs.Where(j => !j.Sealed))
        {
            Seal(job);
        }

        Send();
        connection.Committing = FinishAsync();
    }

    private async Task FinishAsync()
    {
        await connection.PreviousCommit.ConfigureAwait(false);
        await connection.Sender.Idle.ConfigureAwait(false);
        var transaction = connection.Sender.Transaction;
        foreach (var action in _beforeCommit)
        {
            action(this);
        }

        ThrowIfUnsupported();
        var statements = connection.Target.Statements;
        using (var writes = new NpgsqlBatch(connection.Database, transaction))
        {
            foreach (var write in Recording.Writes)
            {
                writes.BatchCommands.Add(write.ToCommand(statements));
            }

            if (connection.Target.NotifiesListeners && Recording.Jobs.Exists(j => j.Queues.Count > 0))
            {
                writes.BatchCommands.Add(ChunkStatements.Notify());
            }

            if (writes.BatchCommands.Count > 0)
            {
                await writes.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync().ConfigureAwait(false);
        foreach (var queue in Recording.Jobs.SelectMany(j => j.Queues))
        {
            connection.Target.Signal(queue);
        }

        await connection.Target.QueueStatistics.QueuedAsync(connection.Database, Recording.Jobs.Sum(j => j.Queues.Count)).ConfigureAwait(false);
    }

    public override void SetJobState(string jobId, IState state)
    {
        if (JobOf(jobId, nameof(SetJobState)) is { } job)
        {
            job.CurrentState = AddState(job, state);
        }
    }

    public override void AddJobState(string jobId, IState state)
    {
        if (JobOf(jobId, nameof(AddJobState)) is { } job)
        {
            AddState(job, state);
        }
    }

    public override void AddToQueue(string queue, string jobId)
    {
        if (JobOf(jobId, nameof(AddToQueue)) is { } job)
        {
            job.Queues.Add(queue);
        }
    }

    public override void PersistJob(string jobId)
    {
        if (JobOf(jobId, nameof(PersistJob)) is { } job)
        {
            job.ExpireAt = null;
            job.ExpireInSeconds = null;
        }
    }

    public override void ExpireJob(string jobId, TimeSpan expireIn)
    {
        if (JobOf(jobId, nameof(ExpireJob)) is { } job)
        {
            job.ExpireAt = null;
            job.ExpireInSeconds = (long)expireIn.TotalSeconds;
        }
    }

    protected override void Record(StorageWrite write) => Recording.Writes.Add(write);

    protected override void MarkUnsupported(string operation) => Recording.MarkUnsupported(operation);

    /// <summary>
    /// A job of this chunk whose rows are not final yet. Hangfire's state machine writes one job after another, so when a
    /// write concerns another job, the previous one is done and sealed; a write to a sealed job cannot be made.
    /// </summary>
    private RecordedJob? JobOf(string jobId, string operation)
    {
        var job = Recording.Find(jobId);
        if (job is null || job.Sealed)
        {
            var why = job is null ? "which is not a job of the chunk" : "after its rows were written";
            Recording.MarkUnsupported(string.Create(CultureInfo.InvariantCulture, $"{operation} of job {jobId}, {why}"));
            return null;
        }

        if (_current is not null && _current != job)
        {
            Seal(_current);
        }

        _current = job;
        return job;
    }

    private RecordedState AddState(RecordedJob job, IState state)
    {
        // The same JSON document Hangfire.PostgreSql stores, stamped with the same clock.
        var recorded = new RecordedState(state.Name, state.Reason, DateTime.UtcNow, connection.Json.StateData(state.SerializeData()));
        job.States.Add(recorded);
        return recorded;
    }

    private void Seal(RecordedJob job)
    {
        job.Sealed = true;
        _sealed.Add(job);
        if (_sealed.Count >= BatchSize)
        {
            Send();
        }
    }

    /// <summary>Sends the sealed jobs, their states numbered in the order they were written.</summary>
    private void Send()
    {
        if (_sealed.Count == 0)
        {
            return;
        }

        var states = _sealed.SelectMany(j => j.States).ToList();
        var ids = connection.Ids.StateIds(states.Count);
        for (var i = 0; i < states.Count; i++)
        {
            states[i].Id = ids[i];
        }

        connection.Sender.Send(JobRowSet.Of(_sealed, connection.Invocations, connection.Json));
        _sealed.Clear();
    }

    private void ThrowIfUnsupported()
    {
        if (Recording.Unsupported is { } operation)
        {
            throw new UnsupportedWriteException(operation);
        }
    }
}
