using System.Globalization;
using Hangfire.Common;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A batch's jobs as Hangfire.PostgreSql's connection reads them one by one (<c>GetJobData</c>, <c>GetStateData</c>,
/// <c>GetJobParameter</c>), read for all of them in one round trip and built the same way: the invocation data and
/// state data deserialized with Hangfire's serializer, a job that cannot be loaded carrying its load exception.
/// </summary>
internal sealed class JobSnapshots
{
    private readonly Dictionary<long, Snapshot> _jobs = [];

    private JobSnapshots()
    {
    }

    public static JobSnapshots Read(NpgsqlConnection connection, ChunkStatements statements, long[] jobIds)
    {
        var snapshots = new JobSnapshots();
        using var batch = statements.SelectJobs(connection, jobIds);
        using var reader = batch.ExecuteReader();
        while (reader.Read())
        {
            var state = reader.IsDBNull(5) ? null : new StateData
            {
                Name = reader.GetString(5),
                Reason = reader.IsDBNull(6) ? null : reader.GetString(6),
                Data = SerializationHelper.Deserialize<Dictionary<string, string>>(reader.IsDBNull(7) ? null : reader.GetString(7)),
            };
            snapshots._jobs[reader.GetInt64(0)] = new Snapshot(
                Load(reader.GetString(1), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetDateTime(4)),
                state);
        }

        reader.NextResult();
        while (reader.Read())
        {
            if (snapshots._jobs.TryGetValue(reader.GetInt64(0), out var job))
            {
                job.Parameters[reader.GetString(1)] = reader.IsDBNull(2) ? null : reader.GetString(2);
            }
        }

        return snapshots;
    }

    /// <summary>Whether <paramref name="jobId"/> is one of the batch's jobs; <paramref name="id"/> is its number.</summary>
    public static bool TryParse(string? jobId, out long id) =>
        long.TryParse(jobId, NumberStyles.None, CultureInfo.InvariantCulture, out id);

    public JobData? JobData(long id) => _jobs.GetValueOrDefault(id)?.Job;

    public StateData? StateData(long id) => _jobs.GetValueOrDefault(id)?.State;

    public string? Parameter(long id, string name) => _jobs.GetValueOrDefault(id)?.Parameters.GetValueOrDefault(name);

    /// <summary>Keeps a parameter written through the connection while the batch runs, as a read after it would see it.</summary>
    public void SetParameter(long id, string name, string? value)
    {
        if (_jobs.TryGetValue(id, out var job))
        {
            job.Parameters[name] = value;
        }
    }

    // As Hangfire.PostgreSql's GetJobData builds it.
    private static JobData Load(string invocationJson, string? arguments, string? stateName, DateTime createdAt)
    {
        var invocation = SerializationHelper.Deserialize<InvocationData>(invocationJson);
        invocation.Arguments = arguments;
        Job? job = null;
        JobLoadException? loadException = null;
        try
        {
            job = invocation.DeserializeJob();
        }
        catch (JobLoadException ex)
        {
            loadException = ex;
        }

        return new JobData { Job = job, State = stateName, CreatedAt = createdAt, LoadException = loadException };
    }

    private sealed record Snapshot(JobData Job, StateData? State)
    {
        public Dictionary<string, string?> Parameters { get; } = new(StringComparer.Ordinal);
    }
}
