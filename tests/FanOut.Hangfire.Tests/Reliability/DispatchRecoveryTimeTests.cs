using System.Diagnostics;
using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// How long a killed dispatch takes to finish once its process is started again, with the settings users have rather
/// than the test host's tuned ones: the sample's fan-out on PostgreSQL (20,000 items, the fast path, the library's
/// default options, a 30-second lease) under the storage options the README recommends, and under Hangfire.PostgreSql's
/// own defaults. Either way the storage hands the killed process's job out again only minutes later (5 and 30); the run
/// must not wait for it: a process that declares the fan-out resumes it once its lease runs out.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DispatchRecoveryTimeTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const string FanOutId = "items";
    private const int Items = 20_000;
    private const int KillAfter = 5_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("recommended", "UseSlidingInvisibilityTimeout on, InvisibilityTimeout 5 min, the rest Hangfire.PostgreSql's defaults")]
    [InlineData("defaults", "Hangfire.PostgreSql's defaults: InvisibilityTimeout 30 min, sliding off")]
    public async Task Dispatch_SigkilledMidway_WithTheStorageOptionsUsersHave_EachItemsJobExistsOnceWithin90SecondsOfTheRestart(string storage, string options)
    {
        var database = await postgres.CreateDatabaseAsync("recovery_" + storage);
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Storage", storage),
            ("Host:Queues", "dispatch"), // Nothing runs the child jobs: they stay queued, to be counted.
            ("Host:Dispatch", DispatchPaths.PostgreSql),
            ("Host:Sources:items:Items", Items),
            // A source that takes its time, as a database query per chunk does, so that the kill lands mid-dispatch.
            ("Host:Sources:items:ChunkDelay", TimeSpan.FromMilliseconds(150)));
        settings.Remove("FanOut:DispatchLeaseDuration"); // The library's default.
        output.WriteLine($"Storage options: {options}.");

        string runId;
        long oldJobId;
        long checkpoint;
        DateTime killedAt;
        await using (var first = await HostProcess.StartAsync("dispatcher-1", database, [.. settings, new("Host:Trigger", FanOutId)], output))
        {
            runId = await probe.SingleRunIdAsync(FanOutId);
            await Wait.UntilAsync(
                async () => await DispatchedItemsAsync(probe, runId) >= KillAfter,
                TimeSpan.FromSeconds(60),
                async () => $"{KillAfter} items to be dispatched; {await DispatchedItemsAsync(probe, runId)} were.{first.Tail()}");
            await first.KillAsync();
            killedAt = DateTime.UtcNow;
            oldJobId = (await probe.DispatchJobsAsync(FanOutId)).Single().JobId;
            checkpoint = await DispatchedItemsAsync(probe, runId);
            (await probe.RunFieldAsync(runId, "Status")).Should().Be("dispatching", "the kill landed mid-dispatch, at {0} of {1} items", checkpoint, Items);
        }

        var restartedAt = DateTime.UtcNow;
        var restart = Stopwatch.StartNew();
        await using var second = await HostProcess.StartAsync("dispatcher-2", database, settings, output);
        await Wait.UntilAsync(
            async () => await probe.ChildJobsWithAStateAsync() >= Items && await probe.RunFieldAsync(runId, "Status") == "dispatched",
            Bound + TimeSpan.FromSeconds(30),
            async () => $"every item's job after the restart; {await probe.ChildJobsWithAStateAsync()} of {Items} exist, {restart.Elapsed.TotalSeconds:F0} s after it.{second.Tail()}");
        var recovery = restart.Elapsed;

        var record = await probe.RunRecordAsync(runId);
        var resumed = second.Lines.Single(l => l.Contains($"Resumes run {runId} of fan-out {FanOutId} from item {checkpoint}:", StringComparison.Ordinal));
        var leaseRanOut = ParseTime(resumed.Split("ran out at ")[1].TrimEnd('|'));
        string Since(DateTime at) => string.Create(CultureInfo.InvariantCulture, $"+{(at - killedAt).TotalSeconds:F1} s");
        output.WriteLine(
            $"Killed at {checkpoint} of {Items} items. After the kill: restart {Since(restartedAt)}, lease ran out {Since(leaseRanOut)}, " +
            $"resume asked {Since(ParseTime(record["ResumeRequestedAt"]))}, every item's job once {Since(restartedAt + recovery)}. " +
            $"Restart to every item's job existing once: {recovery.TotalSeconds:F1} s.");
        recovery.Should().BeLessThan(Bound, "an interrupted run resumes within about a minute of its lease running out, whatever the storage's own recovery time");

        var jobs = await probe.ChildJobsAsync();
        jobs.GroupBy(j => j.ItemKey).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").Take(10)
            .Should().BeEmpty("every item's job of the run exists exactly once");
        jobs.Should().HaveCount(Items).And.OnlyContain(j => j.RunId == runId && j.State == "Enqueued");
        (await probe.QueuedJobsWithoutStateAsync()).Should().Be(0, "jobs the killed chunk created but never committed are never queued");
        record["DispatchedItems"].Should().Be(Items.ToString(CultureInfo.InvariantCulture));
        DispatchPaths.Verify(second.Lines, DispatchPaths.PostgreSql);

        var dispatches = await probe.DispatchJobsAsync(FanOutId);
        dispatches.Should().HaveCount(2, "the killed firing's job, and the resume asked for the same run");
        dispatches.Single(j => j.JobId == oldJobId).State.Should().Be("Processing", "the storage has not handed the killed process's job out again yet");
        dispatches.Single(j => j.JobId != oldJobId).Result.Should().Contain($"Run {runId}: dispatched {Items} items as {Items} jobs");

        // When the storage hands the old job out at last (a requeue here; its invisibility timeout in production), it is
        // the same run: it finds it dispatched.
        new BackgroundJobClient(TestHost.Postgres(database))
            .Requeue(oldJobId.ToString(CultureInfo.InvariantCulture)).Should().BeTrue();
        await Wait.UntilAsync(
            async () => (await probe.DispatchJobsAsync(FanOutId)).Single(j => j.JobId == oldJobId).State == "Succeeded",
            TimeSpan.FromSeconds(60),
            async () => $"the old job to run again; it is {(await probe.DispatchJobsAsync(FanOutId)).Single(j => j.JobId == oldJobId).State}.{second.Tail()}");
        (await probe.DispatchJobsAsync(FanOutId)).Single(j => j.JobId == oldJobId).Result
            .Should().Contain($"Run {runId} was already dispatched: {Items} items as {Items} jobs");
        (await probe.ChildJobsWithAStateAsync()).Should().Be(Items, "the old job dispatched nothing more");
    }


    private static async Task<long> DispatchedItemsAsync(StorageProbe probe, string runId) =>
        long.Parse(await probe.RunFieldAsync(runId, "DispatchedItems") ?? "0", CultureInfo.InvariantCulture);

    private static DateTime ParseTime(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).UtcDateTime;
}
