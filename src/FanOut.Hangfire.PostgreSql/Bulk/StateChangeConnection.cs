using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A storage connection for one batch of state changes of existing jobs (<c>FanOutStateChanges</c>): Hangfire's state
/// machine and every filter run on it unchanged, but the reads of the batch's jobs (their data, current state and
/// parameters) are answered from one query made at the first of them, once the batch holds its locks, and the writes of
/// its transaction are recorded and sent at the commit as a few set-based statements in one database transaction (see
/// <see cref="StateChangeTransaction"/>). Every other call goes to Hangfire's own connection.
/// </summary>
internal sealed class StateChangeConnection(JobStorageConnection inner, PostgreSqlTarget target, IReadOnlyList<string> jobIds)
    : ForwardingConnection(inner)
{
    private readonly HashSet<long> _batch = [.. jobIds.Select(id => JobSnapshots.TryParse(id, out var n) ? n : -1).Where(n => n >= 0)];
    private JobSnapshots? _snapshots;
    private NpgsqlConnection? _database;

    public PostgreSqlTarget Target => target;

    /// <summary>The database connection the batch is read and written on, opened the way the storage opens its own.</summary>
    public NpgsqlConnection Database => _database ??= target.Open();

    public override IWriteOnlyTransaction CreateWriteTransaction() => new StateChangeTransaction(this);

    public override JobData GetJobData(string jobId) =>
        InBatch(jobId, out var id) ? Snapshots.JobData(id)! : Inner.GetJobData(jobId);

    public override StateData GetStateData(string jobId) =>
        InBatch(jobId, out var id) ? Snapshots.StateData(id)! : Inner.GetStateData(jobId);

    public override string GetJobParameter(string id, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return InBatch(id, out var number) ? Snapshots.Parameter(number, name)! : Inner.GetJobParameter(id, name);
    }

    public override void SetJobParameter(string id, string name, string value)
    {
        Inner.SetJobParameter(id, name, value);
        if (InBatch(id, out var number))
        {
            Snapshots.SetParameter(number, name, value);
        }
    }

    public override void Dispose()
    {
        if (_database is not null)
        {
            target.Release(_database);
            _database = null;
        }

        base.Dispose();
    }

    // Read at the first question about a job of the batch: by then the batch holds the limit's lock.
    private JobSnapshots Snapshots => _snapshots ??= JobSnapshots.Read(Database, target.Statements, [.. _batch]);

    private bool InBatch(string? jobId, out long id)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        return JobSnapshots.TryParse(jobId, out id) && _batch.Contains(id);
    }
}
