using System.Data;
using System.Globalization;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The write transaction of a <see cref="BulkConnection"/>: records what Hangfire's state machine and the dispatcher
/// write, and on <see cref="Commit"/> sends it all in one database transaction: the chunk's jobs, parameters, states and
/// queue entries first, then the actions registered with <see cref="BeforeCommit"/> run (the dispatcher's checkpoint,
/// lease renewal and fault-injection hook) and their writes follow, then the transaction commits and the workers are
/// woken. Writes it cannot make mark the chunk unsupported; <see cref="Commit"/> then throws
/// <see cref="UnsupportedWriteException"/> with nothing committed.
/// </summary>
internal sealed class BulkTransaction(BulkConnection connection) : JobStorageTransaction
{
    private readonly List<Action<IWriteOnlyTransaction>> _beforeCommit = [];
    private bool _jobsWritten;

    private ChunkRecording Recording => connection.Recording;

    /// <summary>Runs <paramref name="action"/> inside the database transaction, after the jobs are written and before it commits.</summary>
    public void BeforeCommit(Action<IWriteOnlyTransaction> action) => _beforeCommit.Add(action);

    public override void Commit()
    {
        ThrowIfUnsupported();
        var target = connection.Target;
        var database = connection.Database;
        var stateIds = connection.Ids.StateIds(Recording.States.Count);
        using (var transaction = database.BeginTransaction(IsolationLevel.ReadCommitted))
        {
            using (var jobs = new NpgsqlBatch(database, transaction))
            {
                target.Statements.AddJobRows(jobs, Recording, stateIds);
                jobs.ExecuteNonQuery();
            }

            _jobsWritten = true;
            foreach (var action in _beforeCommit)
            {
                action(this);
            }

            ThrowIfUnsupported();
            using (var writes = new NpgsqlBatch(database, transaction))
            {
                foreach (var write in Recording.Writes)
                {
                    writes.BatchCommands.Add(write.ToCommand(target.Statements));
                }

                if (target.NotifiesListeners && Recording.QueueEntries.Count > 0)
                {
                    writes.BatchCommands.Add(ChunkStatements.Notify());
                }

                if (writes.BatchCommands.Count > 0)
                {
                    writes.ExecuteNonQuery();
                }
            }

            transaction.Commit();
        }

        foreach (var (_, queue) in Recording.QueueEntries)
        {
            target.Signal(queue);
        }
    }

    public override void SetJobState(string jobId, IState state)
    {
        if (JobOf(jobId, nameof(SetJobState)) is { } job)
        {
            job.CurrentState = AddState(job, state);
            job.StateName = state.Name;
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
            Recording.QueueEntries.Add((job.Id, queue));
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

    public override void SetRangeInHash(string key, IEnumerable<KeyValuePair<string, string>> keyValuePairs)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyValuePairs);
        Recording.Writes.Add(HashFieldsWrite.Of(key, keyValuePairs));
    }

    public override void RemoveHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Recording.Writes.Add(new HashRemoveWrite(key));
    }

    // Hangfire.PostgreSql computes a hash's expiry on the client's clock.
    public override void ExpireHash(string key, TimeSpan expireIn)
    {
        ArgumentNullException.ThrowIfNull(key);
        Recording.Writes.Add(new HashExpiryWrite(key, DateTime.UtcNow.Add(expireIn)));
    }

    public override void PersistHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Recording.Writes.Add(new HashExpiryWrite(key, null));
    }

    public override void IncrementCounter(string key) => Recording.Writes.Add(new CounterWrite(key, +1, null));

    public override void IncrementCounter(string key, TimeSpan expireIn) => Recording.Writes.Add(new CounterWrite(key, +1, (long)expireIn.TotalSeconds));

    public override void DecrementCounter(string key) => Recording.Writes.Add(new CounterWrite(key, -1, null));

    public override void DecrementCounter(string key, TimeSpan expireIn) => Recording.Writes.Add(new CounterWrite(key, -1, (long)expireIn.TotalSeconds));

    public override void AddToSet(string key, string value) => AddToSet(key, value, 0.0);

    public override void AddToSet(string key, string value, double score) => Recording.Writes.Add(new SetAddWrite(key, value, score));

    public override void RemoveFromSet(string key, string value) => Recording.Writes.Add(new SetRemoveWrite(key, value));

    public override void InsertToList(string key, string value) => Recording.MarkUnsupported(nameof(InsertToList));

    public override void RemoveFromList(string key, string value) => Recording.MarkUnsupported(nameof(RemoveFromList));

    public override void TrimList(string key, int keepStartingFrom, int keepEndingAt) => Recording.MarkUnsupported(nameof(TrimList));

    public override void ExpireSet(string key, TimeSpan expireIn) => Recording.MarkUnsupported(nameof(ExpireSet));

    public override void ExpireList(string key, TimeSpan expireIn) => Recording.MarkUnsupported(nameof(ExpireList));

    public override void PersistSet(string key) => Recording.MarkUnsupported(nameof(PersistSet));

    public override void PersistList(string key) => Recording.MarkUnsupported(nameof(PersistList));

    public override void AddRangeToSet(string key, IList<string> items) => Recording.MarkUnsupported(nameof(AddRangeToSet));

    public override void RemoveSet(string key) => Recording.MarkUnsupported(nameof(RemoveSet));

    /// <summary>A job of this chunk whose rows are not written yet; anything else cannot be written here.</summary>
    private RecordedJob? JobOf(string jobId, string operation)
    {
        var job = Recording.Find(jobId);
        if (job is null)
        {
            Recording.MarkUnsupported(string.Create(CultureInfo.InvariantCulture, $"{operation} of job {jobId}, which is not a job of the chunk"));
        }
        else if (_jobsWritten)
        {
            Recording.MarkUnsupported(string.Create(CultureInfo.InvariantCulture, $"{operation} of job {jobId} after the chunk's jobs were written"));
            job = null;
        }

        return job;
    }

    private int AddState(RecordedJob job, IState state)
    {
        // The same JSON Hangfire.PostgreSql stores, stamped with the same clock.
        Recording.States.Add(new RecordedState(job.Id, state.Name, state.Reason, DateTime.UtcNow, SerializationHelper.Serialize(state.SerializeData())));
        return Recording.States.Count - 1;
    }

    private void ThrowIfUnsupported()
    {
        if (Recording.Unsupported is { } operation)
        {
            throw new UnsupportedWriteException(operation);
        }
    }
}
