using System.Diagnostics;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// Flow control (design.md invariant 13) with real processes on a real PostgreSQL: a server SIGKILLed while its calls
/// hold slots, three servers sharing one limit, the database stopped mid-run. Concurrency is measured from the
/// handler's own start and end records (<see cref="FlowCalls"/>, one file per process, merged), never from the
/// library's counters. Every server runs handler <c>first</c> with a global limit of <see cref="Limit"/> and
/// <see cref="PerKey"/> per key, over items spread across <see cref="Keys"/> keys, with more workers than slots.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FlowReliabilityTests(PostgresServer postgres, ITestOutputHelper output) : IDisposable
{
    private const int Limit = 4;
    private const int PerKey = 2;
    // Three keys over four slots: some key always has two calls, so both limits bind.
    private const int Keys = 3;
    private const string Handler = "first";
    private const string LimitId = "handler:" + Handler;
    private static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(150);

    private readonly string _callFolder = Path.Combine(Path.GetTempPath(), "fanout-flow-calls-" + Guid.NewGuid().ToString("N"));

    /// <summary>
    /// A server killed while its calls hold slots: its jobs stay Processing and keep their slots (the other server never
    /// runs more than the slots left) until Hangfire.PostgreSql hands them out again after the invisibility timeout; then
    /// they run again (at-least-once: an interrupted item may have started twice, every item succeeds once) and the
    /// limit is used in full again: no slot is lost, no key stays stuck, the run completes. Tuned host only: with the
    /// README's settings the dead jobs' slots come back only after their 5-minute invisibility timeout, and after
    /// Hangfire.PostgreSql's 10-minute lock timeout when the process died holding the limit's lock, longer than this
    /// suite can wait.
    /// </summary>
    [Fact]
    public async Task Limit_ServerSigkilledWhileItsCallsHoldSlots_SlotsComeBackAfterTheInvisibilityTimeout_LimitHolds_RunCompletes()
    {
        const int items = 360;
        var database = await postgres.CreateDatabaseAsync("flow_kill");
        var probe = new StorageProbe(database);
        var settings = Settings(items, DispatchPaths.PostgreSql, workers: 6, TimeSpan.FromMilliseconds(150));

        await using var survivor = await HostProcess.StartAsync("flow-a", database, [.. settings, new("Host:Trigger", "items")], output);
        var victim = await HostProcess.StartAsync("flow-b", database, settings, output);
        long killedAt;
        DateTime killedAtDb;
        List<FlowCall> cut;
        List<long> interrupted;
        string runId;
        try
        {
            runId = await probe.SingleRunIdAsync("items");
            await Wait.UntilAsync(
                () => Calls().Count(c => c.Succeeded) >= items / 5 && OpenCallsOf(victim.Pid).Count >= 2,
                RunTimeout,
                () => $"a fifth of the {items} calls to succeed with two calls running on {victim.Name}; " +
                      $"{Calls().Count(c => c.Succeeded)} did, {OpenCallsOf(victim.Pid).Count} running there");

            await victim.KillAsync();
            killedAt = Stopwatch.GetTimestamp();
            killedAtDb = await probe.NowAsync();
            interrupted = await probe.ProcessingJobsOfAsync(victim.Pid);
            cut = OpenCallsOf(victim.Pid);
            output.WriteLine($"Killed {victim.Name} (pid {victim.Pid}) with {cut.Count} calls running and jobs {string.Join(", ", interrupted)} processing.");

            await WaitForRunToSettleAsync(probe, runId, items, survivor);
        }
        finally
        {
            await victim.DisposeAsync();
        }

        var calls = Calls();
        await AssertLimitsHeldAsync(probe, calls, openUntil: killedAt);
        cut.Select(c => c.JobId).Should().BeSubsetOf(interrupted, "a call running on the killed server is a job processing there");
        interrupted.Should().HaveCountLessThanOrEqualTo(Limit);
        calls.Where(c => c.EndedAt is null).Should().OnlyContain(c => c.Pid == victim.Pid, "only the killed process left calls unfinished");
        calls.Where(c => c.Succeeded).Select(c => c.Item).Distinct().Should().HaveCount(items, "every item's call succeeded at least once");
        calls.GroupBy(c => c.JobId).Where(g => g.Count() > 1).Select(g => g.Key).Should()
            .BeSubsetOf(interrupted, "only the jobs the kill cut off ran again (at-least-once); every other item ran once");

        // The dead server's jobs keep their slots until they run again: until then the survivor runs at most the rest.
        var recovered = new List<long>();
        foreach (var job in interrupted)
        {
            var again = calls.Where(c => c.JobId == job && c.StartedAt > killedAt).Should()
                .ContainSingle($"job {job} was cut off by the kill and ran again on the surviving server").Subject;
            again.Pid.Should().Be(survivor.Pid);
            recovered.Add(again.StartedAt);
            var history = await probe.StateHistoryAsync(job);
            var processingAgain = history.First(s => s.State == "Processing" && s.At > killedAtDb).At;
            output.WriteLine($"Job {job}: processing again {(processingAgain - killedAtDb).TotalSeconds:F1} s after the kill, " +
                             $"its call started again {FlowCalls.Between(killedAt, again.StartedAt).TotalSeconds:F1} s after it.");
            processingAgain.Should().BeBefore(
                killedAtDb + InvisibilityTimeout + LockTimeout + TimeSpan.FromSeconds(20),
                $"job {job} of the killed server is handed out again once its invisibility timeout ran out (plus a lock the dead process may have held)");
        }

        var firstBack = recovered.Min();
        var lastBack = recovered.Max();
        var peakMeanwhile = PeakWithin([.. calls.Where(c => c.Pid == survivor.Pid)], killedAt, firstBack);
        peakMeanwhile.Should().BeLessThanOrEqualTo(Limit - interrupted.Count, "the killed server's jobs still hold their slots until they are handed out again");
        var peakAfter = FlowCalls.PeakOf(calls.Where(c => c.StartedAt >= lastBack));
        var stall = LongestIdle([.. calls.Where(c => c.Pid == survivor.Pid)], killedAt, lastBack);
        output.WriteLine(
            $"Peak {FlowCalls.PeakOf(calls, killedAt)} overall; {peakMeanwhile} while the {interrupted.Count} dead jobs held their slots " +
            $"({FlowCalls.Between(killedAt, firstBack).TotalSeconds:F1} s); {peakAfter} after they ran again " +
            $"(all back {FlowCalls.Between(killedAt, lastBack).TotalSeconds:F1} s after the kill); " +
            $"{calls.Count(c => c.StartedAt > lastBack)} calls after that; the survivor ran no call for at most {stall.TotalSeconds:F1} s at a stretch meanwhile.");
        peakAfter.Should().Be(Limit, "once the dead jobs ran again every slot is in use again: none was lost");
    }

    /// <summary>
    /// Three servers of twelve workers in all share one limit of four: merged, their records never show more than four
    /// calls at once nor more than two of a key, all three run calls, and every item runs exactly once.
    /// </summary>
    [Fact]
    public async Task Limit_ThreeServersSharingOneDatabase_HoldsGloballyAndPerKey_EveryItemRunsOnce()
    {
        const int items = 240;
        var database = await postgres.CreateDatabaseAsync("flow_scale");
        var probe = new StorageProbe(database);
        var settings = Settings(items, DispatchPaths.Generic, workers: 4, TimeSpan.FromMilliseconds(100));

        await using var first = await HostProcess.StartAsync("flow-1", database, settings, output);
        await using var second = await HostProcess.StartAsync("flow-2", database, settings, output);
        await using var third = await HostProcess.StartAsync("flow-3", database, [.. settings, new("Host:Trigger", "items")], output);
        var runId = await probe.SingleRunIdAsync("items");
        await WaitForRunToSettleAsync(probe, runId, items, first, second, third);

        var calls = Calls();
        await AssertLimitsHeldAsync(probe, calls);
        calls.Should().OnlyContain(c => c.Succeeded && c.EndedAt != null);
        calls.Select(c => c.Item).Should().OnlyHaveUniqueItems("nothing failed or was killed, so each item ran once").And.HaveCount(items);
        calls.Select(c => c.Pid).Distinct().Should().BeEquivalentTo([first.Pid, second.Pid, third.Pid], "every server ran calls");
        var peak = FlowCalls.PeakOf(calls);
        output.WriteLine(
            $"Peak {peak} of {Limit} across the three servers; per server " +
            string.Join(", ", calls.GroupBy(c => c.Pid).Select(g => $"pid {g.Key}: {g.Count()} calls, peak {FlowCalls.PeakOf(g)}")) +
            $"; busiest key peak {calls.GroupBy(c => c.Key).Max(k => FlowCalls.PeakOf(k))} of {PerKey}.");
        // The limit itself is asserted above, from the calls' own records: never more than four at once, where twelve
        // workers limited per process would have run up to twelve. This is the liveness side: the slots are kept busy.
        // A slot handed over takes a chain of storage calls, and on a busy machine the fourth slot was at times between
        // two calls whenever the other three were taken, so a peak of three is accepted.
        peak.Should().BeInRange(Limit - 1, Limit, "with twelve workers the four slots are kept busy");
        calls.GroupBy(c => c.Key).Max(k => FlowCalls.PeakOf(k)).Should().Be(PerKey, "three keys share four slots, so some key runs two calls at once");
    }

    /// <summary>
    /// PostgreSQL stopped while limited calls run and started again: calls cut off by the outage are retried
    /// (at-least-once), the limit holds throughout, every item succeeds, and nothing is left waiting or holding a slot.
    /// </summary>
    [Fact]
    public async Task Limit_DatabaseStoppedMidRun_LimitHolds_EveryItemSucceeds_NothingStaysWaiting()
    {
        DatabaseOutage.RequireOwnCluster(postgres);
        // Calls long enough that several run when the database stops: they fail on it, and are retried.
        const int items = 200;
        var database = await postgres.CreateDatabaseAsync("flow_db_loss");
        var probe = new StorageProbe(database);
        var settings = Settings(items, DispatchPaths.PostgreSql, workers: 4, TimeSpan.FromMilliseconds(400));

        await using var first = await HostProcess.StartAsync("flow-a", database, [.. settings, new("Host:Trigger", "items")], output);
        await using var second = await HostProcess.StartAsync("flow-b", database, settings, output);
        var runId = await probe.SingleRunIdAsync("items");
        await Wait.UntilAsync(
            async () => await probe.RunFieldAsync(runId, "Status") == "dispatched" && Calls().Count(c => c.Succeeded) >= items / 5
                        && Calls().Count(c => c.EndedAt is null) >= 2,
            RunTimeout,
            () => $"the dispatch to end, a fifth of the calls to succeed and two to run; {Calls().Count(c => c.Succeeded)} did, " +
                  $"{Calls().Count(c => c.EndedAt is null)} run");

        var (stoppedAt, restartedAt) = await OutageAsync([first, second]);
        await WaitForRunToSettleAsync(probe, runId, items, first, second);

        first.HasExited.Should().BeFalse();
        second.HasExited.Should().BeFalse();
        var calls = Calls();
        await AssertLimitsHeldAsync(probe, calls);
        calls.Should().OnlyContain(c => c.EndedAt != null, "no process died, so every call returned");
        calls.Where(c => c.Succeeded).Select(c => c.Item).Distinct().Should().HaveCount(items, "every item's call succeeded at least once");
        calls.Where(c => c.StartedAt > restartedAt).Select(c => c.Pid).Distinct().Should()
            .BeEquivalentTo([first.Pid, second.Pid], "both servers took calls again once the database was back");
        output.WriteLine(
            $"Outage {FlowCalls.Between(stoppedAt, restartedAt).TotalSeconds:F1} s; {calls.Count} calls for {items} items, " +
            $"{calls.Count(c => !c.Succeeded)} failed, {calls.GroupBy(c => c.Item).Count(g => g.Count(c => c.Succeeded) > 1)} items succeeded twice; " +
            $"peak {FlowCalls.PeakOf(calls)} of {Limit}, busiest key {calls.GroupBy(c => c.Key).Max(k => FlowCalls.PeakOf(k))} of {PerKey}; " +
            $"peak after the restart {FlowCalls.PeakOf(calls.Where(c => c.StartedAt > restartedAt))}.");
    }

    public void Dispose()
    {
        if (Directory.Exists(_callFolder))
        {
            Directory.Delete(_callFolder, recursive: true);
        }
    }

    private Dictionary<string, string> Settings(int items, string dispatchPath, int workers, TimeSpan handlerDelay) =>
        ReliabilityRun.HostSettings(
            ("Host:Dispatch", dispatchPath),
            ("Host:Workers", workers),
            ("Host:HandlerDelay", handlerDelay),
            ("Host:ConcurrencyLimit", Limit),
            ("Host:ConcurrencyLimitPerKey", PerKey),
            ("Host:CallLog", _callFolder),
            ("Host:InvisibilityTimeout", InvisibilityTimeout),
            ("Host:DistributedLockTimeout", LockTimeout),
            ("Host:Sources:items:Items", items),
            ("Host:Sources:items:Keys", Keys),
            ("FanOut:ChunkSize", 100));

    private List<FlowCall> Calls() => FlowCalls.Read(_callFolder);

    private List<FlowCall> OpenCallsOf(int pid) => [.. Calls().Where(c => c.Pid == pid && c.EndedAt is null)];

    private async Task AssertLimitsHeldAsync(StorageProbe probe, List<FlowCall> calls, long? openUntil = null)
    {
        await AssertPeakAsync(probe, calls, Limit, "the global limit holds across every process", openUntil);
        foreach (var key in calls.GroupBy(c => c.Key))
        {
            await AssertPeakAsync(probe, [.. key], PerKey, $"key {key.Key} has a limit of {PerKey}", openUntil);
        }

        calls.Select(c => c.Key).Distinct().Should().HaveCount(Keys);
    }

    /// <summary>Fails, naming the calls that ran at once and their jobs' state histories, when more than <paramref name="limit"/> did.</summary>
    private async Task AssertPeakAsync(StorageProbe probe, List<FlowCall> calls, int limit, string because, long? openUntil)
    {
        var peak = FlowCalls.PeakOf(calls, openUntil);
        if (peak <= limit)
        {
            return;
        }

        var closed = calls.Select(c => c.EndedAt is null && openUntil is { } end ? c with { EndedAt = end } : c).ToList();
        var at = closed.Select(c => c.StartedAt).First(t => closed.Count(c => c.RunsAt(t)) == peak);
        var origin = calls.Min(c => c.StartedAt);
        var report = new System.Text.StringBuilder($"{peak} calls ran at once ({because}) at +{FlowCalls.Between(origin, at).TotalSeconds:F3} s:");
        foreach (var call in closed.Where(c => c.RunsAt(at)))
        {
            report.Append($"{Environment.NewLine}  job {call.JobId} item {call.Item} attempt {call.Attempt} pid {call.Pid}: " +
                          $"+{FlowCalls.Between(origin, call.StartedAt).TotalSeconds:F3} s to +{FlowCalls.Between(origin, call.EndedAt!.Value).TotalSeconds:F3} s, " +
                          (call.Succeeded ? "ok" : "failed") + "; states: ");
            foreach (var state in await probe.ListAsync(
                "SELECT name, coalesce(reason, ''), createdat FROM hangfire.state WHERE jobid = $1 ORDER BY id",
                r => $"{r.GetString(0)} ({r.GetString(1)}) {r.GetDateTime(2):HH:mm:ss.fff}",
                call.JobId))
            {
                report.Append(state).Append("; ");
            }
        }

        output.WriteLine(report.ToString());
        peak.Should().BeLessThanOrEqualTo(limit, report.ToString());
    }

    /// <summary>The most calls of <paramref name="calls"/> running at one instant between two timestamps.</summary>
    private static int PeakWithin(List<FlowCall> calls, long from, long to) =>
        calls.SelectMany(c => new[] { c.StartedAt, from })
            .Where(t => t >= from && t < to)
            .Select(t => calls.Count(c => c.RunsAt(t)))
            .DefaultIfEmpty(0)
            .Max();

    /// <summary>The longest stretch between two timestamps during which none of <paramref name="calls"/> ran.</summary>
    private static TimeSpan LongestIdle(List<FlowCall> calls, long from, long to)
    {
        var longest = TimeSpan.Zero;
        var idleSince = calls.Any(c => c.RunsAt(from)) ? (long?)null : from;
        foreach (var at in calls.SelectMany(c => new[] { c.StartedAt, c.EndedAt ?? to }).Where(t => t > from && t < to).Order().Append(to))
        {
            var running = at < to && calls.Any(c => c.RunsAt(at));
            if (idleSince is { } since && (running || at == to))
            {
                longest = TimeSpan.FromTicks(Math.Max(longest.Ticks, FlowCalls.Between(since, at).Ticks));
                idleSince = null;
            }
            else if (!running && idleSince is null)
            {
                idleSince = at;
            }
        }

        return longest;
    }

    /// <summary>
    /// Waits until every child job succeeded and the run completed, then checks that no job waits, no slot is held and
    /// no key is left behind in the limit's storage.
    /// </summary>
    private async Task WaitForRunToSettleAsync(StorageProbe probe, string runId, int items, params HostProcess[] hosts)
    {
        await Wait.UntilAsync(
            async () => await probe.ChildJobsInStateAsync("Succeeded") == items,
            RunTimeout,
            async () => $"all {items} child jobs to succeed; {await probe.ChildJobsInStateAsync("Succeeded")} did, " +
                        $"{await probe.ChildJobsInStateAsync("Processing")} are processing, " +
                        $"{await probe.ChildJobsInStateAsync("FanOutWaiting")} waiting, {await probe.ChildJobsInStateAsync("Enqueued")} enqueued; " +
                        $"limit sets {await FlowSetsAsync(probe)}{string.Concat(hosts.Select(h => h.Tail(15)))}");
        await Wait.UntilAsync(
            async () => await probe.RunFieldAsync(runId, "Completions") is not null,
            TimeSpan.FromSeconds(30),
            () => $"run {runId} to complete");

        (await probe.ChildJobsAsync()).Should().HaveCount(items).And.OnlyContain(j => j.State == "Succeeded" && j.RunId == runId);
        (await probe.RunFieldAsync(runId, "Completions")).Should().Be("1");
        (await probe.OutcomeCountAsync($"fanout:run:{runId}:{Handler}:succeeded")).Should().Be(items);
        (await FlowSetsAsync(probe)).Should().BeEmpty("no job holds a slot or waits for one once every job succeeded");
    }

    /// <summary>The limit's non-empty sets of running and waiting jobs (global and per key) and its orphans: a job's slot is its members of the running sets.</summary>
    private static async Task<string> FlowSetsAsync(StorageProbe probe) =>
        string.Join(", ", await probe.ListAsync(
            """
            SELECT key, count(*) FROM hangfire.set
            WHERE key IN ($1, $2, $3) OR key LIKE $4 OR key LIKE $5
            GROUP BY key ORDER BY key
            """,
            r => $"{r.GetString(0)}: {r.GetInt64(1)}",
            $"fanout:flow:{LimitId}:running",
            $"fanout:flow:{LimitId}:waiting",
            $"fanout:flow:{LimitId}:orphans",
            $"fanout:flow:{LimitId}:running-of:%",
            $"fanout:flow:{LimitId}:waiting-of:%"));


    /// <summary>
    /// Stops PostgreSQL until a handler call failed on it (as its call file says) and every host's Hangfire server failed a heartbeat, then starts
    /// it again, whatever happens. Returns when it stopped and when it was back, on the call files' clock.
    /// </summary>
    private async Task<(long StoppedAt, long RestartedAt)> OutageAsync(IReadOnlyList<HostProcess> hosts)
    {
        var stoppedAt = Stopwatch.GetTimestamp();
        await DatabaseOutage.RunAsync(
            postgres,
            hosts,
            _ => Calls().Any(c => c.EndedAt > stoppedAt && !c.Succeeded),
            "a handler call to fail on the lost database",
            output);
        return (stoppedAt, Stopwatch.GetTimestamp());
    }

}
