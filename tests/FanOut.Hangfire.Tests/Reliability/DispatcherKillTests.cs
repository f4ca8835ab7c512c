using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// DESIGN.md invariant 1, the hard way: a 20,000-item cron dispatch on PostgreSQL in a real process, SIGKILLed at many
/// moments from the first chunk to the last, restarted each time and left to Hangfire to retry.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DispatcherKillTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Items = 20_000;
    private const int ChunkSize = 1_000;
    private const int Chunks = Items / ChunkSize;

    // Short, so that each killed dispatch comes back within seconds; the sliding keep-alive protects live ones.
    private static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan MomentTimeout = TimeSpan.FromSeconds(90);

    // How far into writing a chunk each kill lands: 0 just after the previous checkpoint committed, 0.5 with half the
    // chunk's jobs created, 1 with all of them created and the commit under way.
    private static readonly double[] Depths = [0.5, 1.0, 0.0, 0.25, 0.95, 0.75];

    [Fact]
    public async Task Dispatch_SigkilledAtManyMoments_EachItemAndHandlerJobExistsOnce_AndTheRunRecordAgrees()
    {
        var handlers = ReliabilityRun.Pick(1, 2);
        var plan = KillPlan(ReliabilityRun.Pick(11, Chunks));
        var database = await postgres.CreateDatabaseAsync("dispatcher_kill");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Queues", "dispatch"), // Nothing runs the child jobs: they stay queued, to be counted.
            ("Host:Workers", 2),
            ("Host:Handlers", handlers),
            ("Host:InvisibilityTimeout", InvisibilityTimeout),
            ("Host:Sources:items:Items", Items),
            ("FanOut:ChunkSize", ChunkSize));
        var hostLines = new List<string>();
        var landed = new List<string>();

        var host = await HostProcess.StartAsync("dispatcher-1", database, [.. settings, new("Host:Trigger", "items")], output);
        string runId;
        try
        {
            runId = await WaitForRunAsync(probe);
            long writtenBefore = 0;
            for (var kill = 0; kill < plan.Count; kill++)
            {
                landed.Add(await WaitForMomentAsync(probe, runId, plan[kill], writtenBefore, handlers));
                await host.KillAsync();
                hostLines.AddRange(host.Lines);
                await host.DisposeAsync();
                writtenBefore = await probe.LastJobIdAsync();
                host = await HostProcess.StartAsync($"dispatcher-{kill + 2}", database, settings, output);
            }

            var last = host;
            await Poll.UntilAsync(
                async () => await probe.RunFieldAsync(runId, "Status") == "dispatched",
                TimeSpan.FromSeconds(120),
                async () => $"run {runId} to finish dispatching after the last kill; it is at {await probe.RunFieldAsync(runId, "DispatchedItems")} items.{last.Tail()}");
            hostLines.AddRange(host.Lines);
        }
        finally
        {
            await host.DisposeAsync();
        }

        output.WriteLine($"Kills landed at: {string.Join("; ", landed)}");
        output.WriteLine($"Crash leftovers (created, never enqueued): {await probe.UninitializedChildJobsAsync()}");

        var jobs = await probe.ChildJobsAsync();
        jobs.Should().HaveCount(Items * handlers).And.OnlyContain(j => j.RunId == runId && j.State == "Enqueued");
        jobs.GroupBy(j => (j.HandlerId, j.ItemKey)).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}")
            .Should().BeEmpty("every (item, handler) job of the run exists exactly once");
        jobs.Select(j => $"{j.HandlerId}/{j.ItemKey}").Order(StringComparer.Ordinal).Should().Equal(
            from handler in HandlerIds(handlers)
            from item in Enumerable.Range(0, Items)
            select $"{handler}/{ItemKey(item)}",
            "the jobs are exactly the source's items, once per handler");
        (await probe.QueuedJobsWithoutStateAsync()).Should().Be(0, "jobs a killed chunk created but never committed are never queued");

        var record = await probe.RunRecordAsync(runId);
        record["Status"].Should().Be("dispatched");
        record["DispatchedItems"].Should().Be(Text(Items));
        record["DispatchedJobs"].Should().Be(Text(Items * handlers));
        record["LastKey"].Should().Be(ItemKey(Items - 1));

        var dispatch = (await probe.DispatchJobsAsync("items")).Should().ContainSingle("a retried dispatch is the same job, never a second one").Subject;
        dispatch.State.Should().Be("Succeeded");
        dispatch.RunId.Should().Be(runId);
        dispatch.Result.Should().Contain($"dispatched {Items} items as {Items * handlers} jobs");
        (await probe.StateHistoryAsync(dispatch.JobId)).Count(s => s.State == "Processing")
            .Should().BeGreaterThan(plan.Count, "each kill interrupted the running dispatch, and Hangfire ran it again");
        hostLines.Where(l => l.Contains($"resumes run {runId} after", StringComparison.Ordinal))
            .Should().HaveCountGreaterThanOrEqualTo(plan.Count - 1, "each retry after a checkpoint resumes from it");
        (await probe.ScalarAsync<long>("SELECT count(*) FROM hangfire.hash WHERE key = 'fanout:lease:items'"))
            .Should().Be(0, "the finished dispatch released its fan-out's lease");
    }

    /// <summary>Kills spread from the first chunk to the last: (chunks committed before the kill, depth into the next).</summary>
    private static List<(int Committed, double Depth)> KillPlan(int kills) =>
        Enumerable.Range(0, kills)
            .Select(k => (
                Committed: (int)Math.Round(k * (Chunks - 1) / (double)(kills - 1)),
                Depth: k == kills - 1 ? 1.0 : Depths[k % Depths.Length]))
            .ToList();

    private static async Task<string> WaitForRunAsync(StorageProbe probe)
    {
        List<string> runs = [];
        await Poll.UntilAsync(
            async () => (runs = await probe.RunIdsAsync("items")).Count > 0,
            TimeSpan.FromSeconds(60),
            () => Task.FromResult("the triggered firing to start its run"));
        return runs.Should().ContainSingle().Subject;
    }

    /// <summary>
    /// Polls the run's checkpoint and the jobs of the chunk being written (created after the last kill and not yet
    /// enqueued) until the dispatch reaches the planned moment, or passes it, which is reported as late.
    /// </summary>
    private static async Task<string> WaitForMomentAsync(
        StorageProbe probe,
        string runId,
        (int Committed, double Depth) moment,
        long writtenBefore,
        int handlers)
    {
        var checkpoint = (long)moment.Committed * ChunkSize;
        var depth = (long)Math.Ceiling(moment.Depth * ChunkSize * handlers);
        var deadline = DateTime.UtcNow + MomentTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var items = long.Parse(await probe.RunFieldAsync(runId, "DispatchedItems") ?? "0", CultureInfo.InvariantCulture);
            if (items > checkpoint)
            {
                return $"{items} committed (late for {checkpoint} + {depth})";
            }

            if (items == checkpoint)
            {
                var writing = await probe.UncommittedChildJobsAfterAsync(writtenBefore);
                if (writing >= depth)
                {
                    return $"{items} committed + {writing} jobs written";
                }
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"The dispatch of run {runId} did not reach {checkpoint} items + {depth} jobs within {MomentTimeout.TotalSeconds:F0} s.");
    }

    private static IEnumerable<string> HandlerIds(int handlers) => handlers == 1 ? ["first"] : ["first", "second"];

    private static string ItemKey(int item) => string.Create(CultureInfo.InvariantCulture, $"items-{item:D6}");

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
