using System.Data;
using System.Globalization;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The write transaction of a <see cref="StateChangeConnection"/>. It records what Hangfire's state machine and the
/// filters write for the batch's jobs (states, expiries, queue entries, sets, counters, hashes); <see cref="Commit"/>
/// sends it all as one batch of set-based statements in one database transaction and commits, then wakes the workers of
/// the queues it added jobs to, as Hangfire.PostgreSql's transaction does. A write it cannot make (lists, whole sets)
/// makes <see cref="Commit"/> throw <see cref="UnsupportedWriteException"/> with nothing sent.
/// </summary>
internal sealed class StateChangeTransaction(StateChangeConnection connection) : JobStorageTransaction
{
    private readonly Dictionary<long, JobRowChange> _jobs = [];
    private readonly List<(long JobId, RecordedState State)> _states = [];
    private readonly List<(long Id, string Queue)> _queued = [];
    private readonly List<StorageWrite> _writes = [];
    private string? _unsupported;

    public override void SetJobState(string jobId, IState state) => JobOf(jobId).CurrentState = AddState(jobId, state);

    public override void AddJobState(string jobId, IState state) => AddState(jobId, state);

    public override void ExpireJob(string jobId, TimeSpan expireIn)
    {
        var job = JobOf(jobId);
        job.Expiry = JobExpiry.Expire;
        job.ExpireInSeconds = (long)expireIn.TotalSeconds;
    }

    public override void PersistJob(string jobId)
    {
        var job = JobOf(jobId);
        job.Expiry = JobExpiry.Persist;
        job.ExpireInSeconds = null;
    }

    public override void AddToQueue(string queue, string jobId)
    {
        ArgumentNullException.ThrowIfNull(queue);
        _queued.Add((Id(jobId), queue));
    }

    public override void SetRangeInHash(string key, IEnumerable<KeyValuePair<string, string>> keyValuePairs)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyValuePairs);
        _writes.Add(HashFieldsWrite.Of(key, keyValuePairs));
    }

    public override void RemoveHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _writes.Add(new HashRemoveWrite(key));
    }

    // Hangfire.PostgreSql computes a hash's expiry on the client's clock.
    public override void ExpireHash(string key, TimeSpan expireIn)
    {
        ArgumentNullException.ThrowIfNull(key);
        _writes.Add(new HashExpiryWrite(key, DateTime.UtcNow.Add(expireIn)));
    }

    public override void PersistHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _writes.Add(new HashExpiryWrite(key, null));
    }

    public override void IncrementCounter(string key) => _writes.Add(new CounterWrite(key, +1, null));

    public override void IncrementCounter(string key, TimeSpan expireIn) => _writes.Add(new CounterWrite(key, +1, (long)expireIn.TotalSeconds));

    public override void DecrementCounter(string key) => _writes.Add(new CounterWrite(key, -1, null));

    public override void DecrementCounter(string key, TimeSpan expireIn) => _writes.Add(new CounterWrite(key, -1, (long)expireIn.TotalSeconds));

    public override void AddToSet(string key, string value) => AddToSet(key, value, 0.0);

    public override void AddToSet(string key, string value, double score) => _writes.Add(new SetAddWrite(key, value, score));

    public override void RemoveFromSet(string key, string value) => _writes.Add(new SetRemoveWrite(key, value));

    public override void InsertToList(string key, string value) => Unsupported(nameof(InsertToList));

    public override void RemoveFromList(string key, string value) => Unsupported(nameof(RemoveFromList));

    public override void TrimList(string key, int keepStartingFrom, int keepEndingAt) => Unsupported(nameof(TrimList));

    public override void ExpireSet(string key, TimeSpan expireIn) => Unsupported(nameof(ExpireSet));

    public override void ExpireList(string key, TimeSpan expireIn) => Unsupported(nameof(ExpireList));

    public override void PersistSet(string key) => Unsupported(nameof(PersistSet));

    public override void PersistList(string key) => Unsupported(nameof(PersistList));

    public override void AddRangeToSet(string key, IList<string> items) => Unsupported(nameof(AddRangeToSet));

    public override void RemoveSet(string key) => Unsupported(nameof(RemoveSet));

    public override void Commit()
    {
        if (_unsupported is { } operation)
        {
            throw new UnsupportedWriteException(operation);
        }

        var statements = connection.Target.Statements;
        var database = connection.Database;
        var commands = new List<NpgsqlBatchCommand>();
        if (_states.Count > 0)
        {
            // Numbered in the order they were written, as the state table's own sequence would number them.
            var (_, ids) = statements.AllocateIds(database, 0, _states.Count);
            for (var i = 0; i < _states.Count; i++)
            {
                _states[i].State.Id = ids[i];
            }

            commands.Add(statements.States(_states));
        }

        if (_jobs.Count > 0)
        {
            commands.Add(statements.UpdateJobs([.. _jobs.Values]));
        }

        if (_queued.Count > 0)
        {
            commands.Add(statements.QueueEntries(_queued));
            if (connection.Target.NotifiesListeners)
            {
                commands.Add(ChunkStatements.Notify());
            }
        }

        commands.AddRange(SetBasedWrites.Commands(statements, _writes));
        if (commands.Count == 0)
        {
            return;
        }

        using (var transaction = database.BeginTransaction(IsolationLevel.ReadCommitted))
        {
            using var batch = new NpgsqlBatch(database, transaction);
            foreach (var command in commands)
            {
                batch.BatchCommands.Add(command);
            }

            batch.ExecuteNonQuery();
            transaction.Commit();
        }

        foreach (var (_, queue) in _queued)
        {
            connection.Target.Signal(queue);
        }
    }

    private RecordedState AddState(string jobId, IState state)
    {
        ArgumentNullException.ThrowIfNull(state);

        // The same JSON Hangfire.PostgreSql stores, stamped with the same clock.
        var recorded = new RecordedState(state.Name, state.Reason, DateTime.UtcNow, SerializationHelper.Serialize(state.SerializeData()));
        _states.Add((Id(jobId), recorded));
        return recorded;
    }

    private JobRowChange JobOf(string jobId)
    {
        var id = Id(jobId);
        if (!_jobs.TryGetValue(id, out var job))
        {
            job = new JobRowChange(id);
            _jobs.Add(id, job);
        }

        return job;
    }

    // As Hangfire.PostgreSql reads a job id.
    private static long Id(string jobId) => Convert.ToInt64(jobId, CultureInfo.InvariantCulture);

    private void Unsupported(string operation) => _unsupported ??= operation;
}
