using System.Data;
using System.Globalization;
using Hangfire.Common;
using Hangfire.States;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The write transaction of a <see cref="StateChangeConnection"/>. It records what Hangfire's state machine and the
/// filters write for the batch's jobs (states, expiries, queue entries, sets, counters, hashes); <see cref="Commit"/>
/// sends it all as one batch of set-based statements in one database transaction and commits, then wakes the workers of
/// the queues it added jobs to, as Hangfire.PostgreSql's transaction does. A write it cannot make (lists, whole sets)
/// makes <see cref="Commit"/> throw <see cref="UnsupportedWriteException"/> with nothing sent.
/// </summary>
internal sealed class StateChangeTransaction(StateChangeConnection connection) : RecordingTransaction
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

    protected override void Record(StorageWrite write) => _writes.Add(write);

    protected override void MarkUnsupported(string operation) => _unsupported ??= operation;
}
