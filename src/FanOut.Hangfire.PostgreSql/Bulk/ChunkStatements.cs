using Hangfire.Common;
using Hangfire.Storage;
using Npgsql;
using NpgsqlTypes;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The statements of the fast path for one Hangfire.PostgreSql schema (version 23). A batch of jobs goes in with one
/// multi-row <c>INSERT ... SELECT FROM unnest(...)</c> a table, the values serialized exactly as Hangfire.PostgreSql
/// serializes them, so the rows are the ones its own transactions leave behind: a job row carries its final state id,
/// state name and expiry directly instead of being inserted and then updated.
/// </summary>
internal sealed class ChunkStatements
{
    // The channel Hangfire.PostgreSql's workers listen on when long polling is enabled.
    private const string JobNotificationChannel = "new_job";

    private readonly string _allocateJobIds;
    private readonly string _allocateStateIds;
    private readonly string _insertJobs;
    private readonly string _insertParameters;
    private readonly string _insertStates;
    private readonly string _insertQueueEntries;
    private readonly string _setHashFields;
    private readonly string _removeHash;
    private readonly string _setHashExpiry;
    private readonly string _addToCounter;
    private readonly string _addToSet;
    private readonly string _removeFromSet;
    private readonly string _selectJobs;
    private readonly string _selectParameters;
    private readonly string _updateJobs;
    private readonly string _addToSets;
    private readonly string _removeFromSets;
    private readonly string _addToCounters;

    public ChunkStatements(string schemaName, string jobSequence, string stateSequence)
    {
        var s = Identifier(schemaName);
        _allocateJobIds = $"SELECT nextval({Literal(jobSequence)}) FROM generate_series(1, $1)";
        _allocateStateIds = $"SELECT nextval({Literal(stateSequence)}) FROM generate_series(1, $1)";
        _insertJobs = $"""
            INSERT INTO {s}."job" ("id", "stateid", "statename", "invocationdata", "arguments", "createdat", "expireat")
            SELECT "id", "stateid", "statename", "invocationdata"::jsonb, "arguments"::jsonb, "createdat",
                   COALESCE("expireat", NOW() + "expirein" * INTERVAL '1 second')
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[])
                AS "t"("id", "stateid", "statename", "invocationdata", "arguments", "createdat", "expireat", "expirein")
            """;
        _insertParameters = $"""
            INSERT INTO {s}."jobparameter" ("jobid", "name", "value")
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
            """;
        _insertStates = $"""
            INSERT INTO {s}."state" ("id", "jobid", "name", "reason", "createdat", "data")
            SELECT "id", "jobid", "name", "reason", "createdat", "data"::jsonb
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
                AS "t"("id", "jobid", "name", "reason", "createdat", "data")
            """;
        _insertQueueEntries = $"""
            INSERT INTO {s}."jobqueue" ("jobid", "queue")
            SELECT * FROM unnest($1::bigint[], $2::text[])
            """;
        _setHashFields = $"""
            INSERT INTO {s}."hash" ("key", "field", "value")
            SELECT $1, "field", "value" FROM unnest($2::text[], $3::text[]) AS "t"("field", "value")
            ON CONFLICT ("key", "field") DO UPDATE SET "value" = EXCLUDED."value"
            """;
        _removeHash = $"""DELETE FROM {s}."hash" WHERE "key" = $1""";
        _setHashExpiry = $"""UPDATE {s}."hash" SET "expireat" = $2::timestamptz WHERE "key" = $1""";
        _addToCounter = $"""
            INSERT INTO {s}."counter" ("key", "value", "expireat") VALUES ($1, $2, NOW() + $3::bigint * INTERVAL '1 second')
            """;
        _addToSet = $"""
            INSERT INTO {s}."set" ("key", "value", "score") VALUES ($1, $2, $3)
            ON CONFLICT ("key", "value") DO UPDATE SET "score" = EXCLUDED."score"
            """;
        _removeFromSet = $"""DELETE FROM {s}."set" WHERE "key" = $1 AND "value" = $2""";

        // Existing jobs (a batch of state changes): what GetJobData and GetStateData read, for many jobs at once.
        _selectJobs = $"""
            SELECT "j"."id", "j"."invocationdata"::text, "j"."statename", "j"."arguments"::text, "j"."createdat",
                   "s"."name", "s"."reason", "s"."data"::text
            FROM {s}."job" AS "j" LEFT JOIN {s}."state" AS "s" ON "s"."id" = "j"."stateid"
            WHERE "j"."id" = ANY($1::bigint[])
            """;
        _selectParameters = $"""SELECT "jobid", "name", "value" FROM {s}."jobparameter" WHERE "jobid" = ANY($1::bigint[])""";

        // What SetJobState, ExpireJob and PersistJob leave on each job row: a null state id keeps the current state;
        // expiry 0 keeps it, 1 persists the job, 2 expires it in "expirein" seconds of the database's clock.
        _updateJobs = $"""
            UPDATE {s}."job" AS "j"
            SET "stateid" = COALESCE("t"."stateid", "j"."stateid"),
                "statename" = CASE WHEN "t"."stateid" IS NULL THEN "j"."statename" ELSE "t"."statename" END,
                "expireat" = CASE "t"."expiry" WHEN 0 THEN "j"."expireat" WHEN 1 THEN NULL
                             ELSE NOW() + "t"."expirein" * INTERVAL '1 second' END
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::integer[], $5::bigint[])
                AS "t"("id", "stateid", "statename", "expiry", "expirein")
            WHERE "j"."id" = "t"."id"
            """;
        _addToSets = $"""
            INSERT INTO {s}."set" ("key", "value", "score")
            SELECT * FROM unnest($1::text[], $2::text[], $3::float8[])
            ON CONFLICT ("key", "value") DO UPDATE SET "score" = EXCLUDED."score"
            """;
        _removeFromSets = $"""
            DELETE FROM {s}."set" AS "s" USING unnest($1::text[], $2::text[]) AS "t"("key", "value")
            WHERE "s"."key" = "t"."key" AND "s"."value" = "t"."value"
            """;
        _addToCounters = $"""
            INSERT INTO {s}."counter" ("key", "value", "expireat")
            SELECT "key", "value", NOW() + "expirein" * INTERVAL '1 second'
            FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS "t"("key", "value", "expirein")
            """;
    }

    /// <summary>Takes ids from the job and state sequences, as the tables' defaults would.</summary>
    public (long[] JobIds, long[] StateIds) AllocateIds(NpgsqlConnection connection, int jobs, int states)
    {
        using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(Command(_allocateJobIds, jobs));
        batch.BatchCommands.Add(Command(_allocateStateIds, states));
        using var reader = batch.ExecuteReader();
        var jobIds = ReadIds(reader, jobs);
        reader.NextResult();
        var stateIds = ReadIds(reader, states);
        return (jobIds, stateIds);
    }

    /// <summary>The rows of the given jobs: the jobs themselves, then their parameters, states and queue entries.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <param name="chunkInvocations">The chunk's invocation data, shared by the calls for one chunk; a new one when omitted.</param>
    /// <param name="json">The chunk's JSON writer, shared by the calls for one chunk; a new one when omitted.</param>
    public List<NpgsqlBatchCommand> JobRows(IReadOnlyList<RecordedJob> jobs, ChunkInvocations? chunkInvocations = null, RowJson? json = null) =>
        Inserts(JobRowSet.Of(jobs, chunkInvocations ?? new ChunkInvocations(), json ?? new RowJson()));

    /// <summary>The inserts of <paramref name="rows"/>: one a table that gets rows, the jobs first.</summary>
    public List<NpgsqlBatchCommand> Inserts(JobRowSet rows)
    {
        List<NpgsqlBatchCommand> commands =
        [
            Command(_insertJobs, rows.JobIds, rows.JobStateIds, rows.JobStateNames, rows.JobInvocations, rows.JobArguments, rows.JobCreatedAt, rows.JobExpireAt, rows.JobExpireIn),
        ];
        if (rows.ParameterJobIds.Length > 0)
        {
            commands.Add(Command(_insertParameters, rows.ParameterJobIds, rows.ParameterNames, rows.ParameterValues));
        }

        if (rows.StateIds.Length > 0)
        {
            commands.Add(Command(_insertStates, rows.StateIds, rows.StateJobIds, rows.StateNames, rows.StateReasons, rows.StateCreatedAt, rows.StateData));
        }

        if (rows.QueueJobIds.Length > 0)
        {
            commands.Add(Command(_insertQueueEntries, rows.QueueJobIds, rows.Queues));
        }

        return commands;
    }

    /// <summary>The state rows of <paramref name="states"/>, their ids given.</summary>
    public NpgsqlBatchCommand States(List<(long JobId, RecordedState State)> states) =>
        Command(
            _insertStates,
            states.ConvertAll(s => s.State.Id).ToArray(),
            states.ConvertAll(s => s.JobId).ToArray(),
            states.ConvertAll(s => s.State.Name).ToArray(),
            states.ConvertAll(s => s.State.Reason).ToArray(),
            states.ConvertAll(s => s.State.CreatedAt).ToArray(),
            states.ConvertAll(s => Json(s.State.Data, "{}")).ToArray());

    /// <summary>The job queue rows of <paramref name="entries"/>, as Hangfire.PostgreSql's default queue provider adds them.</summary>
    public NpgsqlBatchCommand QueueEntries(List<(long Id, string Queue)> entries) =>
        Command(_insertQueueEntries, entries.ConvertAll(e => e.Id).ToArray(), entries.ConvertAll(e => e.Queue).ToArray());

    /// <summary>Reads the rows of existing jobs and of their current states, then their parameters: two results.</summary>
    public NpgsqlBatch SelectJobs(NpgsqlConnection connection, long[] jobIds)
    {
        var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(Command(_selectJobs, jobIds));
        batch.BatchCommands.Add(Command(_selectParameters, jobIds));
        return batch;
    }

    /// <summary>Sets the current state (when given) and the expiry of existing jobs (see <see cref="JobRowChange"/>).</summary>
    public NpgsqlBatchCommand UpdateJobs(IReadOnlyList<JobRowChange> jobs) =>
        Command(
            _updateJobs,
            jobs.Select(j => j.Id).ToArray(),
            jobs.Select(j => j.CurrentState?.Id).ToArray(),
            jobs.Select(j => j.CurrentState?.Name).ToArray(),
            jobs.Select(j => (int)j.Expiry).ToArray(),
            jobs.Select(j => j.ExpireInSeconds).ToArray());

    /// <summary>Adds the members to their sets, or updates their scores; each (key, value) once.</summary>
    public NpgsqlBatchCommand AddToSets(IReadOnlyList<SetAddWrite> adds) =>
        Command(_addToSets, adds.Select(a => a.Key).ToArray(), adds.Select(a => a.Value).ToArray(), adds.Select(a => a.Score).ToArray());

    /// <summary>Removes the members from their sets.</summary>
    public NpgsqlBatchCommand RemoveFromSets(IReadOnlyList<SetRemoveWrite> removes) =>
        Command(_removeFromSets, removes.Select(r => r.Key).ToArray(), removes.Select(r => r.Value).ToArray());

    /// <summary>One counter row per increment or decrement, as Hangfire.PostgreSql inserts them one by one.</summary>
    public NpgsqlBatchCommand AddToCounters(IReadOnlyList<CounterWrite> counters) =>
        Command(
            _addToCounters,
            counters.Select(c => c.Key).ToArray(),
            counters.Select(c => (long)c.Value).ToArray(),
            counters.Select(c => c.ExpireInSeconds).ToArray());

    /// <summary>Tells the workers of every process listening for new jobs that some were added.</summary>
    public static NpgsqlBatchCommand Notify() => new($"NOTIFY {JobNotificationChannel}");

    public NpgsqlBatchCommand SetHashFields(string key, string[] fields, string?[] values) => Command(_setHashFields, key, fields, values);

    public NpgsqlBatchCommand RemoveHash(string key) => Command(_removeHash, key);

    public NpgsqlBatchCommand SetHashExpiry(string key, DateTime? expireAt) => Command(_setHashExpiry, key, expireAt);

    public NpgsqlBatchCommand AddToCounter(string key, int value, long? expireInSeconds) => Command(_addToCounter, key, value, expireInSeconds);

    public NpgsqlBatchCommand AddToSet(string key, string value, double score) => Command(_addToSet, key, value, score);

    public NpgsqlBatchCommand RemoveFromSet(string key, string value) => Command(_removeFromSet, key, value);

    private static long[] ReadIds(NpgsqlDataReader reader, int count)
    {
        var ids = new long[count];
        for (var i = 0; i < count && reader.Read(); i++)
        {
            ids[i] = reader.GetInt64(0);
        }

        // Sequences hand values out in increasing order; sorting keeps a job's states in the order they were written.
        Array.Sort(ids);
        return ids;
    }

    private static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        return command;
    }

    // Times are always UTC; saying so keeps an array of nothing but nulls from being sent as local timestamps.
    private static NpgsqlParameter Parameter(object? value) => value switch
    {
        DateTime[] or DateTime?[] => new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
        DateTime => new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        _ => new NpgsqlParameter { Value = value ?? DBNull.Value },
    };

    // Hangfire.PostgreSql stores an empty or missing JSON value as an empty object or array.
    internal static string Json(string? value, string empty) => string.IsNullOrEmpty(value) ? empty : value;

    internal static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
