using System.Globalization;
using Hangfire.Common;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A storage connection for writing one chunk: the generic path runs on it unchanged (Hangfire's job factory with its
/// client filters, then its state machine in one write transaction), but the jobs it creates and the writes of that
/// transaction are recorded instead of sent one by one, and go to PostgreSQL as set-based statements, a batch of jobs at
/// a time, in the one database transaction the chunk commits in (see <see cref="BulkTransaction"/>). Reads, and writes
/// to anything outside the chunk, go to Hangfire's own connection.
/// </summary>
internal sealed class BulkConnection : ForwardingConnection
{
    private readonly PostgreSqlTarget _target;
    private NpgsqlConnection? _database;
    private RowSender? _sender;

    public BulkConnection(JobStorageConnection inner, PostgreSqlTarget target, int expectedJobs, Task previousCommit)
        : base(inner)
    {
        _target = target;
        PreviousCommit = previousCommit;

        // Rows may be on their way on the same connection; ids are taken once they are written.
        Ids = new IdPool(target.Statements, () =>
        {
            _sender?.WaitIdle();
            return Database;
        }, Math.Max(expectedJobs, 1));
    }

    public ChunkRecording Recording { get; } = new();

    /// <summary>Writes the JSON of the chunk's rows.</summary>
    public RowJson Json { get; } = new();

    /// <summary>Serializes the invocation data of the chunk's jobs.</summary>
    public ChunkInvocations Invocations { get; } = new();

    /// <summary>The commit of the chunk written before this one; this chunk commits only after it succeeded.</summary>
    public Task PreviousCommit { get; }

    /// <summary>This chunk's commit, once its write transaction was committed: it completes when the database committed.</summary>
    public Task? Committing { get; set; }

    public PostgreSqlTarget Target => _target;

    public IdPool Ids { get; }

    /// <summary>The database connection the chunk is written on, opened the way the storage opens its own.</summary>
    public NpgsqlConnection Database => _database ??= _target.Open();

    /// <summary>Sends the chunk's rows on <see cref="Database"/>, in the transaction the chunk commits in.</summary>
    public RowSender Sender => _sender ??= new RowSender(Database, _target.Statements);

    public override IWriteOnlyTransaction CreateWriteTransaction() => new BulkTransaction(this);

    public override string CreateExpiredJob(Job job, IDictionary<string, string> parameters, DateTime createdAt, TimeSpan expireIn)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(parameters);
        var recorded = new RecordedJob(Ids.NextJobId(), job, new Dictionary<string, string?>(parameters!), createdAt, createdAt.Add(expireIn));
        Recording.Add(recorded);
        return recorded.Id.ToString(CultureInfo.InvariantCulture);
    }

    public override void SetJobParameter(string id, string name, string value)
    {
        if (Recording.Find(id) is { } job)
        {
            ArgumentNullException.ThrowIfNull(name);
            if (job.Sealed)
            {
                Recording.MarkUnsupported($"SetJobParameter of job {id} after its rows were written");
                return;
            }

            job.Parameters[name] = value;
            return;
        }

        Inner.SetJobParameter(id, name, value);
    }

    public override string GetJobParameter(string id, string name) =>
        Recording.Find(id) is { } job ? job.Parameters.GetValueOrDefault(name)! : Inner.GetJobParameter(id, name);

    public override JobData GetJobData(string jobId) =>
        Recording.Find(jobId) is { } job
            ? new JobData { Job = job.Job, CreatedAt = job.CreatedAt }
            : Inner.GetJobData(jobId);

    // A job of the chunk has no state in storage until the chunk commits, as with Hangfire's own two-step creation.
    public override StateData GetStateData(string jobId) => Recording.Find(jobId) is null ? Inner.GetStateData(jobId) : null!;

    public override void Dispose()
    {
        // Rolls back what was sent unless the chunk committed. The inner connection belongs to the caller, and is only
        // used while the chunk is recorded, never while it commits.
        _sender?.Dispose();
        _sender = null;
        if (_database is not null)
        {
            _target.Release(_database);
            _database = null;
        }

        base.Dispose();
    }
}
