using Hangfire;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// What PostgreSQL and Hangfire's storage API hold for the child jobs of one run, keyed by (handler, item) and with the
/// run's id, job ids, row ids and timestamps taken out, so that two runs of the same items can be compared whole.
/// </summary>
internal static class PostgreSqlFastPathRows
{
    /// <summary>Every column of the run's rows in job, state, jobparameter and jobqueue, but ids and timestamps.</summary>
    public static async Task<Dictionary<string, List<string>>> RawRowsAsync(string connectionString, string runId)
    {
        // Each row is keyed by the handler id and item key of its job, both JSON strings in the job's arguments.
        (string Table, string Row, string Join, string Order)[] tables =
        [
            ("job", "(to_jsonb(j) - 'id' - 'stateid' - 'createdat')::text || ' stateid-is-latest-state=' || "
                    + "(j.stateid = (SELECT max(l.id) FROM hangfire.state l WHERE l.jobid = j.id))::text", "", "j.id"),
            ("state", "((to_jsonb(t) - 'id' - 'jobid' - 'createdat') #- '{data,EnqueuedAt}')::text", "JOIN hangfire.state t ON t.jobid = j.id", "t.id"),
            ("jobparameter", "(to_jsonb(t) - 'id' - 'jobid')::text", "JOIN hangfire.jobparameter t ON t.jobid = j.id", "t.name"),
            ("jobqueue", "(to_jsonb(t) - 'id' - 'jobid')::text", "JOIN hangfire.jobqueue t ON t.jobid = j.id", "t.id"),
        ];
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var (table, row, join, order) in tables)
        {
            var sql = $"""
                SELECT j.arguments->>0, j.arguments->>2, {row}
                FROM hangfire.job j {join}
                WHERE j.arguments->>1 = to_jsonb(@run::text)::text
                ORDER BY {order}
                """;
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("run", runId);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var key = $"{reader.GetString(0)} {reader.GetString(1)}";
                if (!rows.TryGetValue(key, out var list))
                {
                    rows[key] = list = [];
                }

                list.Add($"{table}: {reader.GetString(2).Replace(runId, "{run}", StringComparison.Ordinal)}");
            }
        }

        return rows;
    }

    /// <summary>What Hangfire's storage connection and monitoring API return for each of the run's jobs.</summary>
    public static Dictionary<string, StoredJob> ThroughHangfire(JobStorage storage, string runId, IEnumerable<string> jobIds)
    {
        using var connection = storage.GetConnection();
        var monitoring = storage.GetMonitoringApi();
        var enqueued = monitoring.Queues()
            .SelectMany(q => monitoring.EnqueuedJobs(q.Name, 0, 100_000).Select(j => (Id: j.Key, Queue: q.Name, j.Value)))
            .ToDictionary(j => j.Id, StringComparer.Ordinal);
        var stored = new Dictionary<string, StoredJob>(StringComparer.Ordinal);
        foreach (var jobId in jobIds)
        {
            var data = connection.GetJobData(jobId)!;
            var state = connection.GetStateData(jobId)!;
            var details = monitoring.JobDetails(jobId);
            var queued = enqueued[jobId];
            string Clean(string? text) => (text ?? "(null)").Replace(runId, "{run}", StringComparison.Ordinal).Replace(jobId, "{job}", StringComparison.Ordinal);

            var job = new StoredJob(
                $"{data.Job.Type.FullName}.{data.Job.Method.Name}({string.Join(", ", data.Job.Args.Select(a => Clean(a?.ToString())))}) queue={data.Job.Queue}",
                data.State,
                $"{state.Name} reason={Clean(state.Reason)} {Describe(state.Data)}",
                details.Properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Clean(p.Value)}").ToList(),
                details.History.Select(h => $"{h.StateName} reason={Clean(h.Reason)} {Describe(h.Data)}").ToList(),
                details.ExpireAt,
                $"{queued.Queue} state={queued.Value.State} in-state={queued.Value.InEnqueuedState} job={queued.Value.Job?.Method.Name}");
            data.CreatedAt.Should().NotBe(default, "job {0} has a creation time", jobId);
            state.Data.Should().ContainKey("EnqueuedAt");
            queued.Value.EnqueuedAt.Should().NotBeNull();
            var args = ItemJobCodec.Instance.TryRead(data.Job, out var read) ? read : throw new InvalidOperationException($"Job {job} is not a child job.");
            stored[$"{args.HandlerId} {args.ItemKey}"] = job;
        }

        return stored;
    }

    /// <summary>The ids of the run's child jobs, as Hangfire's monitoring API lists them.</summary>
    public static List<string> JobIds(JobStorage storage, string runId) =>
        JobCensus.ChildJobs(storage).Where(j => j.RunId == runId).Select(j => j.JobId).ToList();

    // The enqueue time differs from job to job; that it is there is checked apart.
    private static string Describe(IDictionary<string, string> data) =>
        string.Join(", ", data.Where(d => d.Key != "EnqueuedAt").OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}"));
}

/// <summary>One job as Hangfire's storage API shows it.</summary>
internal sealed record StoredJob(
    string Invocation,
    string State,
    string StateData,
    List<string> Parameters,
    List<string> History,
    DateTime? ExpireAt,
    string QueueEntry);
