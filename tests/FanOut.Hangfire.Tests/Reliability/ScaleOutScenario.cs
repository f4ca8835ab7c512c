using System.Globalization;
using Hangfire;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>A run as its record has it.</summary>
public sealed record StoredRun(string RunId, string Status, DateTimeOffset? DispatchStartedAt, DateTimeOffset? DispatchFinishedAt);

/// <summary>Everything one cron fan-out left behind in the scale-out scenario.</summary>
public sealed record FanOutHistory(
    string FanOutId,
    IReadOnlyList<StoredDispatchJob> Firings,
    IReadOnlyDictionary<long, DateTime> FiringStartedAt,
    IReadOnlyDictionary<string, StoredRun> Runs,
    IReadOnlyList<SourceRead> SourceReads);

/// <summary>What the three servers did, read back once they were idle.</summary>
public sealed record ScaleOutOutcome(
    IReadOnlyList<int> ServerPids,
    IReadOnlyDictionary<string, FanOutHistory> FanOuts,
    IReadOnlyList<StoredChildJob> ChildJobs,
    IReadOnlyList<Execution> Executions,
    IReadOnlyList<string> HostLines);

/// <summary>
/// Three server processes on one PostgreSQL database, with three cron fan-outs firing every few seconds (6-field
/// crons): <c>items</c> (a quick source, every 2 s), <c>slow-skip</c> (a 5 s source every 2 s, overlap rule Skip) and
/// <c>slow-wait</c> (a 3.3 s source every 3 s, overlap rule Wait). It runs until <c>items</c> fired at least 20 times
/// (100 with <c>FANOUT_RELIABILITY_LONG=1</c>), then the schedules are removed and the servers left to finish. It runs
/// once for all the tests that read its outcome.
/// </summary>
public static class ScaleOutScenario
{
    public const string Items = "items";
    public const string SlowSkip = "slow-skip";
    public const string SlowWait = "slow-wait";
    public const int ItemsPerFiring = 100;
    public const int SlowItemsPerFiring = 20;

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static ScaleOutOutcome? _outcome;

    public static int Firings { get; } = ReliabilityRun.Pick(20, 100);

    public static async Task<ScaleOutOutcome> RunOnceAsync(PostgresServer postgres, ITestOutputHelper output)
    {
        await Gate.WaitAsync();
        try
        {
            return _outcome ??= await RunAsync(postgres, output);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<ScaleOutOutcome> RunAsync(PostgresServer postgres, ITestOutputHelper output)
    {
        var database = await postgres.CreateDatabaseAsync("scale_out");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Dispatch", DispatchPaths.PostgreSql),
            ("Host:Workers", 6),
            ("Host:QueuePollInterval", TimeSpan.FromMilliseconds(500)),
            ("FanOut:ChunkSize", 100),
            ("FanOut:CronFanOuts:items:Cron", "*/2 * * * * *"),
            ("Host:Sources:items:Items", ItemsPerFiring),
            ("FanOut:CronFanOuts:slow-skip:Enabled", true),
            ("FanOut:CronFanOuts:slow-skip:Cron", "*/2 * * * * *"),
            ("Host:Sources:slow-skip:Items", SlowItemsPerFiring),
            ("Host:Sources:slow-skip:ChunkDelay", TimeSpan.FromSeconds(5)),
            ("FanOut:CronFanOuts:slow-wait:Enabled", true),
            ("FanOut:CronFanOuts:slow-wait:Cron", "*/3 * * * * *"),
            ("Host:Sources:slow-wait:Items", SlowItemsPerFiring),
            ("Host:Sources:slow-wait:ChunkDelay", TimeSpan.FromSeconds(3.3)));

        var hosts = new List<HostProcess>();
        try
        {
            // One after the other: each prepares the schema and registers the same recurring jobs.
            for (var i = 0; i < 3; i++)
            {
                hosts.Add(await HostProcess.StartAsync($"server-{(char)('a' + i)}", database, settings, output));
            }

            await Wait.UntilAsync(
                async () => (await probe.DispatchJobsAsync(Items)).Count >= Firings,
                TimeSpan.FromSeconds(Firings * 2 + 60),
                async () => $"{Firings} firings of '{Items}'; there were {(await probe.DispatchJobsAsync(Items)).Count}");
            StopSchedules(database);

            await Wait.UntilAsync(
                async () => await IdleAsync(probe),
                TimeSpan.FromSeconds(120),
                async () => $"the servers to finish every firing and job; {await probe.ChildJobsInStateAsync("Enqueued")} jobs are still enqueued");

            var fanOuts = new Dictionary<string, FanOutHistory>(StringComparer.Ordinal);
            foreach (var fanOutId in new[] { Items, SlowSkip, SlowWait })
            {
                fanOuts[fanOutId] = await HistoryAsync(probe, fanOutId);
            }

            return new ScaleOutOutcome(
                hosts.Select(h => h.Pid).ToList(),
                fanOuts,
                await probe.ChildJobsAsync(),
                await probe.ExecutionsAsync(),
                hosts.SelectMany(h => h.Lines).ToList());
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    /// <summary>Removes the recurring jobs, as an application that stops declaring its fan-outs would.</summary>
    private static void StopSchedules(string database)
    {
        var storage = TestHost.Postgres(database);
        try
        {
            var manager = new RecurringJobManager(storage);
            foreach (var fanOutId in new[] { Items, SlowSkip, SlowWait })
            {
                manager.RemoveIfExists("fanout:" + fanOutId);
            }
        }
        finally
        {
            (storage as IDisposable)?.Dispose();
        }
    }

    private static async Task<bool> IdleAsync(StorageProbe probe)
    {
        foreach (var fanOutId in new[] { Items, SlowSkip, SlowWait })
        {
            if ((await probe.DispatchJobsAsync(fanOutId)).Any(j => j.State is not ("Succeeded" or "Failed")))
            {
                return false;
            }
        }

        var jobs = await probe.ChildJobsAsync();
        return jobs.All(j => j.State == "Succeeded");
    }

    private static async Task<FanOutHistory> HistoryAsync(StorageProbe probe, string fanOutId)
    {
        var firings = await probe.DispatchJobsAsync(fanOutId);
        var startedAt = new Dictionary<long, DateTime>();
        foreach (var firing in firings)
        {
            startedAt[firing.JobId] = (await probe.StateHistoryAsync(firing.JobId)).First(s => s.State == "Processing").At;
        }

        var runs = new Dictionary<string, StoredRun>(StringComparer.Ordinal);
        foreach (var runId in await probe.RunIdsAsync(fanOutId))
        {
            var record = await probe.RunRecordAsync(runId);
            runs[runId] = new StoredRun(runId, record.GetValueOrDefault("Status") ?? string.Empty, Time(record, "DispatchStartedAt"), Time(record, "DispatchFinishedAt"));
        }

        return new FanOutHistory(fanOutId, firings, startedAt, runs, await probe.SourceReadsAsync(fanOutId));
    }

    private static DateTimeOffset? Time(Dictionary<string, string> record, string field) =>
        record.TryGetValue(field, out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
            ? parsed
            : null;
}

/// <summary>Intervals that should follow one another, checked for overlaps.</summary>
internal static class Intervals
{
    /// <summary>Describes every interval that starts before the one before it ended.</summary>
    public static List<string> Overlapping<T>(IEnumerable<T> items, Func<T, DateTimeOffset> start, Func<T, DateTimeOffset> end, Func<T, string> name)
    {
        var sorted = items.OrderBy(start).ToList();
        var overlapping = new List<string>();
        for (var i = 1; i < sorted.Count; i++)
        {
            if (start(sorted[i]) < end(sorted[i - 1]))
            {
                overlapping.Add($"{name(sorted[i])} started at {start(sorted[i]):HH:mm:ss.fff}, before {name(sorted[i - 1])} ended at {end(sorted[i - 1]):HH:mm:ss.fff}");
            }
        }

        return overlapping;
    }

    public static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
