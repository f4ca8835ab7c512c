using Npgsql;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>A child job as PostgreSQL holds it: one row of hangfire.job, read with SQL rather than through Hangfire.</summary>
public sealed record StoredChildJob(long JobId, string? State, string HandlerId, string RunId, string ItemKey);

/// <summary>A dispatch job: its state, the run it dispatched, and the result it returned.</summary>
public sealed record StoredDispatchJob(long JobId, string? State, string? RunId, string? Result, long? FiringTime);

/// <summary>One handler call the test host journaled.</summary>
public sealed record Execution(
    long Id,
    string RunId,
    string HandlerId,
    string ItemKey,
    int Attempt,
    long JobId,
    int Pid,
    DateTime StartedAt,
    DateTime? FinishedAt);

/// <summary>One read of a source the test host journaled: a dispatch attempt, from its start to its last item.</summary>
public sealed record SourceRead(long Id, string FanOutId, string RunId, int Pid, DateTime StartedAt, DateTime? FinishedAt);

/// <summary>
/// Reads what Hangfire.PostgreSql, the library and the test host stored, with SQL straight from the database, so that
/// every count is the storage's own and not what a process believes.
/// </summary>
public sealed class StorageProbe(string connectionString)
{
    private static readonly string ChildJobType = typeof(FanOutItemJob).FullName + ",%";
    private static readonly string DispatchJobType = typeof(FanOutDispatchJob).FullName + ",%";

    /// <summary>Child jobs that went through Hangfire's state machine; crash leftovers (no state) are left out.</summary>
    public Task<List<StoredChildJob>> ChildJobsAsync() =>
        ListAsync(
            """
            SELECT id, statename,
                   (arguments->>0)::jsonb #>> '{}',
                   (arguments->>1)::jsonb #>> '{}',
                   (arguments->>2)::jsonb #>> '{}'
            FROM hangfire.job
            WHERE invocationdata->>'Type' LIKE $1 AND statename IS NOT NULL
            """,
            r => new StoredChildJob(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)),
            ChildJobType);

    /// <summary>How many child jobs went through Hangfire's state machine: <see cref="ChildJobsAsync"/>, counted by the database.</summary>
    public Task<long> ChildJobsWithAStateAsync() =>
        ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE $1 AND statename IS NOT NULL", ChildJobType);

    /// <summary>Child jobs created but never initialized: what a dispatch killed before its chunk committed leaves.</summary>
    public Task<long> UninitializedChildJobsAsync() =>
        ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE $1 AND statename IS NULL", ChildJobType);

    /// <summary>Queue entries of jobs that have no state: a crash leftover that a worker could pick up.</summary>
    public Task<long> QueuedJobsWithoutStateAsync() =>
        ScalarAsync<long>("SELECT count(*) FROM hangfire.jobqueue q JOIN hangfire.job j ON j.id = q.jobid WHERE j.statename IS NULL");

    /// <summary>Child jobs created after <paramref name="afterJobId"/> that have no state yet: the chunk being written now.</summary>
    public Task<long> UncommittedChildJobsAfterAsync(long afterJobId) =>
        ScalarAsync<long>(
            "SELECT count(*) FROM hangfire.job WHERE id > $1 AND statename IS NULL AND invocationdata->>'Type' LIKE $2",
            afterJobId,
            ChildJobType);

    /// <summary>Jobs in the Processing state on the server running in process <paramref name="pid"/>.</summary>
    public Task<List<long>> ProcessingJobsOfAsync(int pid) =>
        ListAsync(
            """
            SELECT j.id FROM hangfire.job j JOIN hangfire.state s ON s.id = j.stateid
            WHERE j.statename = 'Processing' AND s.data->>'ServerId' LIKE $1
            """,
            r => r.GetInt64(0),
            $"%:{pid}:%");

    public Task<long> ChildJobsInStateAsync(string state) =>
        ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename = $1 AND invocationdata->>'Type' LIKE $2", state, ChildJobType);

    /// <summary>When the last child job to be fetched for the first time was fetched: the end of the queue's backlog.</summary>
    public Task<DateTime> LastFirstFetchAsync() =>
        ScalarAsync<DateTime>(
            """
            SELECT max(first_fetch) FROM (
                SELECT min(s.createdat) AS first_fetch
                FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid
                WHERE s.name = 'Processing' AND j.invocationdata->>'Type' LIKE $1
                GROUP BY s.jobid) f
            """,
            ChildJobType);

    public Task<long> LastJobIdAsync() => ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM hangfire.job");

    public Task<List<StoredDispatchJob>> DispatchJobsAsync(string fanOutId) =>
        ListAsync(
            """
            SELECT j.id, j.statename,
                   (SELECT p.value::jsonb #>> '{}' FROM hangfire.jobparameter p WHERE p.jobid = j.id AND p.name = 'FanOut.RunId'),
                   (SELECT (s.data->>'Result')::jsonb #>> '{}' FROM hangfire.state s WHERE s.id = j.stateid AND s.name = 'Succeeded'),
                   (SELECT p.value::bigint FROM hangfire.jobparameter p WHERE p.jobid = j.id AND p.name = 'Time')
            FROM hangfire.job j
            WHERE j.invocationdata->>'Type' LIKE $1 AND (j.arguments->>0)::jsonb #>> '{}' = $2
            ORDER BY j.id
            """,
            r => new StoredDispatchJob(
                r.GetInt64(0),
                r.IsDBNull(1) ? null : r.GetString(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                r.IsDBNull(4) ? null : r.GetInt64(4)),
            DispatchJobType,
            fanOutId);

    /// <summary>When each of a job's states was entered, oldest first.</summary>
    public Task<List<(string State, DateTime At)>> StateHistoryAsync(long jobId) =>
        ListAsync(
            "SELECT name, createdat FROM hangfire.state WHERE jobid = $1 ORDER BY id",
            r => (r.GetString(0), r.GetDateTime(1)),
            jobId);

    /// <summary>Ids of the runs the library recorded, for one fan-out or event name.</summary>
    public Task<List<string>> RunIdsAsync(string name) =>
        ListAsync(
            "SELECT substr(key, length('fanout:run:') + 1) FROM hangfire.hash WHERE key LIKE 'fanout:run:%' AND field = 'Name' AND value = $1 ORDER BY key",
            r => r.GetString(0),
            name);

    /// <summary>Waits for the one run of a cron fan-out (a triggered firing) to be recorded, and returns its id.</summary>
    public async Task<string> SingleRunIdAsync(string name)
    {
        List<string> runs = [];
        await Wait.UntilAsync(
            async () => (runs = await RunIdsAsync(name)).Count > 0,
            TimeSpan.FromSeconds(60),
            () => Task.FromResult("the triggered firing to start its run"));
        return runs.Should().ContainSingle().Subject;
    }

    /// <summary>A run's record, field by field (Status, DispatchedItems, DispatchedJobs, Completions...).</summary>
    public async Task<Dictionary<string, string>> RunRecordAsync(string runId)
    {
        var fields = await ListAsync(
            "SELECT field, coalesce(value, '') FROM hangfire.hash WHERE key = $1",
            r => (Field: r.GetString(0), Value: r.GetString(1)),
            "fanout:run:" + runId);
        return fields.ToDictionary(f => f.Field, f => f.Value, StringComparer.Ordinal);
    }

    /// <summary>A field of the run record of a fan-out's only dispatch job, or null before it has one.</summary>
    public async Task<string?> RunFieldOfFanOutAsync(string fanOutId, string field) =>
        (await DispatchJobsAsync(fanOutId)).SingleOrDefault()?.RunId is { } runId ? await RunFieldAsync(runId, field) : null;

    public async Task<string?> RunFieldAsync(string runId, string field) =>
        await ScalarOrDefaultAsync<string>("SELECT value FROM hangfire.hash WHERE key = $1 AND field = $2", "fanout:run:" + runId, field);

    /// <summary>How many jobs a run counts in one outcome of one handler: the members of its outcome set.</summary>
    public Task<long> OutcomeCountAsync(string key) =>
        ScalarAsync<long>("SELECT count(*) FROM hangfire.set WHERE key = $1", key);

    public Task<List<Execution>> ExecutionsAsync() =>
        ListAsync(
            "SELECT id, run, handler, item, attempt, job_id, pid, started_at, finished_at FROM reliability.executions ORDER BY id",
            r => new Execution(
                r.GetInt64(0),
                r.GetString(1),
                r.GetString(2),
                r.GetString(3),
                r.GetInt32(4),
                long.Parse(r.GetString(5), System.Globalization.CultureInfo.InvariantCulture),
                r.GetInt32(6),
                r.GetDateTime(7),
                r.IsDBNull(8) ? null : r.GetDateTime(8)));

    public Task<long> FinishedExecutionsAsync() =>
        ScalarAsync<long>("SELECT count(*) FROM reliability.executions WHERE finished_at IS NOT NULL");

    public Task<List<SourceRead>> SourceReadsAsync(string fanOutId) =>
        ListAsync(
            "SELECT id, fan_out, run, pid, started_at, finished_at FROM reliability.dispatches WHERE fan_out = $1 ORDER BY started_at",
            r => new SourceRead(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetDateTime(4), r.IsDBNull(5) ? null : r.GetDateTime(5)),
            fanOutId);

    /// <summary>The database's clock, which the test host's journal uses too.</summary>
    public Task<DateTime> NowAsync() => ScalarAsync<DateTime>("SELECT clock_timestamp()");

    public async Task<T> ScalarAsync<T>(string sql, params object[] values) =>
        await ScalarOrDefaultAsync<T>(sql, values) ?? throw new InvalidOperationException($"No value from: {sql}");

    public async Task<T?> ScalarOrDefaultAsync<T>(string sql, params object[] values)
    {
        await using var connection = await OpenAsync();
        await using var command = Command(connection, sql, values);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    public async Task<List<T>> ListAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] values)
    {
        await using var connection = await OpenAsync();
        await using var command = Command(connection, sql, values);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
