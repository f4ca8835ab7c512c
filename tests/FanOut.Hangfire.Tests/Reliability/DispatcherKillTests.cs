using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariant 1, the hard way: a 20,000-item cron dispatch on PostgreSQL in a real process, SIGKILLed at many
/// moments from the first chunk to the last, restarted each time and left to Hangfire to retry.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DispatcherKillTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Items = 20_000;
    private const int ChunkSize = 1_000;
    private const int Chunks = Items / ChunkSize;

    // As short as Hangfire.PostgreSql allows (whole seconds), so that each killed dispatch comes back at once. The host
    // has a single worker, so however late a keep-alive, no second worker of a live process can take the dispatch.
    private static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MomentTimeout = TimeSpan.FromSeconds(90);

    // How far into a chunk each kill lands: 0 just after the previous checkpoint committed, 0.5 half-way through the
    // chunk, 1 with all its jobs created and the commit under way (on the generic path, where that can be seen).
    private static readonly double[] Depths = [0.5, 1.0, 0.0, 0.25, 0.95, 0.75];

    [Theory]
    [InlineData("generic")]
    [InlineData("postgresql")]
    public async Task Dispatch_SigkilledAtManyMoments_EachItemAndHandlerJobExistsOnce_AndTheRunRecordAgrees(string dispatchPath)
    {
        var handlers = ReliabilityRun.Pick(1, 2);
        var plan = KillPlan(ReliabilityRun.Pick(11, Chunks), dispatchPath);
        var database = await postgres.CreateDatabaseAsync("dispatcher_kill");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Queues", "dispatch"), // Nothing runs the child jobs: they stay queued, to be counted.
            ("Host:Workers", 1),
            ("Host:Dispatch", dispatchPath),
            ("Host:Handlers", handlers),
            ("Host:InvisibilityTimeout", InvisibilityTimeout),
            ("Host:Sources:items:Items", Items),
            // The fast path writes a chunk in a blink, and decides the next while one commits; a pause in the source gives
            // the kills room within each chunk, and the test's polling room to see each checkpoint on a busy machine.
            ("Host:Sources:items:ChunkDelay", TimeSpan.FromMilliseconds(dispatchPath == DispatchPaths.Generic ? 0 : 300)),
            ("FanOut:ChunkSize", ChunkSize));
        var hostLines = new List<string>();
        var landed = new List<string>();
        var killedMidDispatch = 0;

        var host = await HostProcess.StartAsync("dispatcher-1", database, [.. settings, new("Host:Trigger", "items")], output);
        string runId;
        try
        {
            runId = await probe.SingleRunIdAsync("items");
            long writtenBefore = 0;
            var clock = new ChunkClock();
            for (var kill = 0; kill < plan.Count; kill++)
            {
                // Only a process that runs the dispatch is worth killing: wait until Hangfire gave it the job again and
                // it holds the lease (a killed dispatcher's lease runs out first), which is when it reads the source.
                await host.WaitForLineAsync(l => l.StartsWith("dispatch-performing|", StringComparison.Ordinal), MomentTimeout, "the dispatch to run");
                await Wait.UntilAsync(
                    async () => (await probe.SourceReadsAsync("items")).Count > kill,
                    MomentTimeout,
                    () => Task.FromResult("the dispatch to take the lease and read its source"));
                clock.Resumed();
                landed.Add(await WaitForMomentAsync(probe, runId, plan[kill], writtenBefore, handlers, clock, dispatchPath == DispatchPaths.Generic));
                await host.KillAsync();
                var dispatching = await probe.RunFieldAsync(runId, "Status") == "dispatching";
                if (dispatching)
                {
                    killedMidDispatch++;
                }

                hostLines.AddRange(host.Lines);
                await host.DisposeAsync();
                if (!dispatching)
                {
                    // The dispatch outran this kill and finished: no later kill can land, and the count below says so.
                    host = await HostProcess.StartAsync($"dispatcher-{kill + 2}", database, settings, output);
                    break;
                }

                writtenBefore = await probe.LastJobIdAsync();
                host = await HostProcess.StartAsync($"dispatcher-{kill + 2}", database, settings, output);
            }

            var last = host;
            await Wait.UntilAsync(
                async () => await probe.RunFieldAsync(runId, "Status") == "dispatched"
                            && (await probe.DispatchJobsAsync("items")).All(j => j.State == "Succeeded"),
                TimeSpan.FromSeconds(120),
                async () => $"run {runId} to finish dispatching after the last kill; it is at {await probe.RunFieldAsync(runId, "DispatchedItems")} items.{last.Tail()}");
            hostLines.AddRange(host.Lines);
        }
        finally
        {
            await host.DisposeAsync();
        }

        output.WriteLine($"Kills landed at: {string.Join("; ", landed)}");
        killedMidDispatch.Should().BeGreaterThanOrEqualTo(Math.Min(10, plan.Count), "the kills landed while the dispatch ran, from its first chunk to its last");
        DispatchPaths.Verify(hostLines, dispatchPath);
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
        dispatch.Result.Should().Contain(
            $"{Items} items as {Items * handlers} jobs",
            "the last attempt finished the dispatch, or found it finished by an attempt killed before its job could succeed, and says so");
        (await probe.StateHistoryAsync(dispatch.JobId)).Count(s => s.State == "Processing")
            .Should().BeGreaterThan(killedMidDispatch, "each kill interrupted the running dispatch, and Hangfire ran it again");
        hostLines.Where(l => l.Contains($"resumes run {runId} after", StringComparison.Ordinal))
            .Should().HaveCountGreaterThanOrEqualTo(killedMidDispatch - 1, "each retry after a checkpoint resumes from it");
        // Another execution of the same job (a fetch that outlived the 1-second invisibility timeout) may still be taking
        // the lease to find the run dispatched; none may keep it.
        await Wait.UntilAsync(
            async () => await probe.ScalarAsync<long>("SELECT count(*) FROM hangfire.hash WHERE key = 'fanout:lease:items'") == 0,
            TimeSpan.FromSeconds(60),
            () => "the finished dispatch to release its fan-out's lease, and every other execution of its job to let it go");
    }

    /// <summary>
    /// Kills spread from the first chunk to the last: (chunks committed before the kill, depth into the next). The last
    /// lands in the last chunk's commit where that can be seen (generic path), else half-way through it.
    /// </summary>
    private static List<(int Committed, double Depth)> KillPlan(int kills, string dispatchPath) =>
        Enumerable.Range(0, kills)
            .Select(k => (
                Committed: (int)Math.Round(k * (Chunks - 1) / (double)(kills - 1)),
                Depth: k < kills - 1 ? Depths[k % Depths.Length] : dispatchPath == DispatchPaths.Generic ? 1.0 : 0.5))
            .ToList();


    /// <summary>
    /// Polls the run's checkpoint until the dispatch reaches the planned moment, or passes it (reported as late). The
    /// generic path creates a chunk's jobs one by one before its commit, so the depth is how many of them exist (created
    /// after the last kill, not yet enqueued); the fast path writes the whole chunk at its commit, so the depth is how
    /// long since the checkpoint, as a share of the time chunks have been taking.
    /// </summary>
    private static async Task<string> WaitForMomentAsync(
        StorageProbe probe,
        string runId,
        (int Committed, double Depth) moment,
        long writtenBefore,
        int handlers,
        ChunkClock clock,
        bool jobsVisibleBeforeCommit)
    {
        var checkpoint = (long)moment.Committed * ChunkSize;
        var depth = (long)Math.Ceiling(moment.Depth * ChunkSize * handlers);
        var deadline = DateTime.UtcNow + MomentTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var items = clock.Observe(long.Parse(await probe.RunFieldAsync(runId, "DispatchedItems") ?? "0", CultureInfo.InvariantCulture));
            if (items > checkpoint)
            {
                return $"{items} committed (late for {checkpoint} + {moment.Depth:P0})";
            }

            if (items == checkpoint && jobsVisibleBeforeCommit)
            {
                var writing = await probe.UncommittedChildJobsAfterAsync(writtenBefore);
                if (writing >= depth)
                {
                    return $"{items} committed + {writing} jobs written";
                }
            }
            else if (items == checkpoint && clock.SinceChange >= clock.ChunkTime * moment.Depth)
            {
                return $"{items} committed + {clock.SinceChange.TotalMilliseconds:F0} ms into the next chunk";
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"The dispatch of run {runId} did not reach {checkpoint} items + {moment.Depth:P0} of a chunk within {MomentTimeout.TotalSeconds:F0} s.");
    }

    /// <summary>How long the running dispatch has been in its current chunk, and how long its last chunk took.</summary>
    private sealed class ChunkClock
    {
        private long _items = -1;
        private DateTime _changedAt = DateTime.UtcNow;

        // The first chunk after a restart also took the replay of the source up to the checkpoint: not a chunk's time.
        private bool _replaying;

        public TimeSpan ChunkTime { get; private set; } = TimeSpan.FromMilliseconds(300);

        public TimeSpan SinceChange => DateTime.UtcNow - _changedAt;

        /// <summary>A restarted process took the dispatch up again: its current chunk starts now.</summary>
        public void Resumed()
        {
            _changedAt = DateTime.UtcNow;
            _replaying = true;
        }

        public long Observe(long items)
        {
            if (items != _items)
            {
                var now = DateTime.UtcNow;
                if (_items >= 0 && items == _items + ChunkSize && !_replaying)
                {
                    ChunkTime = now - _changedAt;
                }

                _replaying = false;

                _items = items;
                _changedAt = now;
            }

            return items;
        }
    }

    private static IEnumerable<string> HandlerIds(int handlers) => handlers == 1 ? ["first"] : ["first", "second"];

    private static string ItemKey(int item) => string.Create(CultureInfo.InvariantCulture, $"items-{item:D6}");

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
