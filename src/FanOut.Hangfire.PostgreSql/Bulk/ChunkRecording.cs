using System.Globalization;
using Hangfire.Common;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// Everything Hangfire asked the storage to write for one chunk, in the order it asked: the jobs it created (with their
/// parameters, and the states and queue entries the state machine gave them), and the other writes of the chunk's
/// transaction (the run's checkpoint, the dispatch lease, and whatever a filter adds). <see cref="ChunkStatements"/>
/// turns it into a few set-based statements.
/// </summary>
internal sealed class ChunkRecording
{
    private readonly Dictionary<long, RecordedJob> _jobsById = [];

    public List<RecordedJob> Jobs { get; } = [];

    public List<StorageWrite> Writes { get; } = [];

    /// <summary>The first write the fast path cannot make, if any; the chunk then goes the generic way.</summary>
    public string? Unsupported { get; private set; }

    public void Add(RecordedJob job)
    {
        Jobs.Add(job);
        _jobsById.Add(job.Id, job);
    }

    /// <summary>A job of this chunk by its Hangfire id, or null for any other job.</summary>
    public RecordedJob? Find(string? jobId) =>
        long.TryParse(jobId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? _jobsById.GetValueOrDefault(id) : null;

    public void MarkUnsupported(string operation) => Unsupported ??= operation;
}

/// <summary>
/// A job as <c>CreateExpiredJob</c> received it, with what the state machine then wrote about it: the rows of the job,
/// job parameter, state and job queue tables it ends up with.
/// </summary>
internal sealed class RecordedJob(long id, Job job, Dictionary<string, string?> parameters, DateTime createdAt, DateTime expireAt)
{
    public long Id { get; } = id;

    public Job Job { get; } = job;

    public Dictionary<string, string?> Parameters { get; } = parameters;

    public DateTime CreatedAt { get; } = createdAt;

    /// <summary>When the row expires, on the client's clock; null when persisted or when <see cref="ExpireInSeconds"/> applies.</summary>
    public DateTime? ExpireAt { get; set; } = expireAt;

    /// <summary>Expiry counted from the database's clock (<c>NOW()</c> of the chunk's transaction), as <c>ExpireJob</c> writes it.</summary>
    public long? ExpireInSeconds { get; set; }

    /// <summary>Every state written for the job, in order; the history the dashboard shows.</summary>
    public List<RecordedState> States { get; } = [];

    /// <summary>The state <c>SetJobState</c> made current, if any.</summary>
    public RecordedState? CurrentState { get; set; }

    public List<string> Queues { get; } = [];

    /// <summary>True once the job's rows are final and on their way to the database; it takes no more writes.</summary>
    public bool Sealed { get; set; }
}

/// <summary>A row of the state table, serialized the way Hangfire.PostgreSql serializes it; its id is given when it is sent.</summary>
internal sealed class RecordedState(string name, string? reason, DateTime createdAt, string data)
{
    public long Id { get; set; }

    public string Name { get; } = name;

    public string? Reason { get; } = reason;

    public DateTime CreatedAt { get; } = createdAt;

    public string Data { get; } = data;
}
