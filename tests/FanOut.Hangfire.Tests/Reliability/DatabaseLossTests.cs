using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// The database goes away under running servers, mid-dispatch and mid-execution, and comes back: the processes keep
/// running, Hangfire retries what failed, and nothing is lost or doubled. Stopping PostgreSQL is only possible with the
/// cluster the tests start themselves.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseLossTests(PostgresServer postgres, ITestOutputHelper output)
{

    [Theory]
    [InlineData(DispatchPaths.Generic)]
    [InlineData(DispatchPaths.PostgreSql)]
    public async Task Dispatch_DatabaseStoppedMidDispatch_ResumesFromItsCheckpoint_NothingLostOrDoubled_WithoutARestart(string dispatchPath)
    {
        DatabaseOutage.RequireOwnCluster(postgres);
        const int items = 4_000;
        var database = await postgres.CreateDatabaseAsync("db_loss_dispatch");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Queues", "dispatch"),
            ("Host:Dispatch", dispatchPath),
            ("Host:Workers", 2),
            ("Host:Sources:items:Items", items),
            ("Host:Sources:items:ChunkDelay", TimeSpan.FromMilliseconds(200)),
            ("FanOut:ChunkSize", 500));

        await using var host = await HostProcess.StartAsync("dispatcher", database, [.. settings, new("Host:Trigger", "items")], output);
        var runId = await probe.SingleRunIdAsync("items");
        await Wait.UntilAsync(
            async () => await DispatchedItemsAsync(probe, runId) >= 1_500,
            TimeSpan.FromSeconds(120),
            async () => $"1500 items to be dispatched; {await DispatchedItemsAsync(probe, runId)} were");

        var checkpoint = await DispatchedItemsAsync(probe, runId);
        await OutageAsync(
            [host],
            "job-failed|FanOutDispatchJob|",
            "the dispatch to fail on the lost database");

        await Wait.UntilAsync(
            async () => await probe.RunFieldAsync(runId, "Status") == "dispatched",
            TimeSpan.FromSeconds(120),
            async () => $"run {runId} to finish dispatching; it is at {await DispatchedItemsAsync(probe, runId)} items.{host.Tail()}");

        host.HasExited.Should().BeFalse("the server rides out the outage without a restart");
        DispatchPaths.Verify(host.Lines, dispatchPath);
        var resumedFrom = host.Lines
            .Where(l => l.Contains($"resumes run {runId} after ", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split("after ")[1].Split(' ')[0], CultureInfo.InvariantCulture))
            .ToList();
        resumedFrom.Should().NotBeEmpty("Hangfire retried the failed dispatch").And.OnlyContain(n => n >= checkpoint, "a retry resumes from the checkpoint, never from the start");

        var jobs = await probe.ChildJobsAsync();
        jobs.Should().HaveCount(items).And.OnlyContain(j => j.RunId == runId && j.State == "Enqueued");
        jobs.Select(j => j.ItemKey).Should().OnlyHaveUniqueItems("nothing is doubled");
        (await probe.QueuedJobsWithoutStateAsync()).Should().Be(0);
        (await probe.RunFieldAsync(runId, "DispatchedJobs")).Should().Be(items.ToString(CultureInfo.InvariantCulture));
        // An execution cut off by the outage may record its failure late (Hangfire's worker retries a state change
        // until storage answers), scheduling one more retry after another execution finished the run: that retry finds
        // the run dispatched and succeeds.
        await Wait.UntilAsync(
            async () => (await probe.DispatchJobsAsync("items")).SingleOrDefault()?.State == "Succeeded",
            TimeSpan.FromSeconds(60),
            async () => $"the dispatch job to succeed; it is {(await probe.DispatchJobsAsync("items")).SingleOrDefault()?.State}.{host.Tail()}");
        var dispatch = (await probe.DispatchJobsAsync("items")).Should().ContainSingle().Subject;
        dispatch.Result.Should().Contain($"{items} items as {items} jobs");
    }

    [Fact]
    public async Task Execution_DatabaseStoppedWhileJobsRun_EveryItemCompletes_AndBothServersRecoverWithoutARestart()
    {
        DatabaseOutage.RequireOwnCluster(postgres);
        var items = ReliabilityRun.Pick(2_000, 10_000);
        var database = await postgres.CreateDatabaseAsync("db_loss_execution");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Dispatch", DispatchPaths.PostgreSql),
            ("Host:Workers", 6),
            ("Host:HandlerDelay", TimeSpan.FromMilliseconds(20)),
            ("Host:Sources:items:Items", items),
            ("FanOut:ChunkSize", 500));

        await using var first = await HostProcess.StartAsync("server-a", database, [.. settings, new("Host:Trigger", "items")], output);
        await using var second = await HostProcess.StartAsync("server-b", database, settings, output);
        var runId = await probe.SingleRunIdAsync("items");
        await Wait.UntilAsync(
            async () => await probe.RunFieldAsync(runId, "Status") == "dispatched" && await probe.FinishedExecutionsAsync() >= items / 5,
            TimeSpan.FromSeconds(120),
            async () => $"the dispatch to end and a fifth of the calls to finish; {await probe.FinishedExecutionsAsync()} did");

        var restartedAt = await OutageAsync(
            [first, second],
            "job-failed|FanOutItemJob|",
            "a handler call to fail on the lost database");

        await Wait.UntilAsync(
            async () => await probe.ChildJobsInStateAsync("Succeeded") == items,
            TimeSpan.FromSeconds(180),
            async () => $"all {items} child jobs to succeed; {await probe.ChildJobsInStateAsync("Succeeded")} did.{first.Tail()}{second.Tail()}");
        await Wait.UntilAsync(
            async () => await probe.RunFieldAsync(runId, "Completions") is not null,
            TimeSpan.FromSeconds(30),
            async () => $"run {runId} to complete; all {items} jobs succeeded and its succeeded counter says " +
                        $"{await probe.OutcomeCountAsync($"fanout:run:{runId}:first:succeeded")}");

        first.HasExited.Should().BeFalse();
        second.HasExited.Should().BeFalse();
        var executions = await probe.ExecutionsAsync();
        executions.Where(e => e.StartedAt > restartedAt).Select(e => e.Pid).Distinct().Should()
            .BeEquivalentTo([first.Pid, second.Pid], "both servers took jobs again once the database was back, without a restart");
        executions.Where(e => e.FinishedAt is not null).Select(e => e.ItemKey).Distinct().Should()
            .HaveCount(items, "every item's handler completed at least once");

        var jobs = await probe.ChildJobsAsync();
        jobs.Should().HaveCount(items).And.OnlyContain(j => j.RunId == runId && j.State == "Succeeded");
        jobs.Select(j => j.ItemKey).Should().OnlyHaveUniqueItems();
        (await probe.RunFieldAsync(runId, "Completions")).Should().Be("1");
        (await probe.OutcomeCountAsync($"fanout:run:{runId}:first:succeeded")).Should().Be(items);
    }


    /// <summary>
    /// Stops PostgreSQL and keeps it down until a job was cut off by it (a line starting with <paramref name="jobFailed"/>
    /// from any host) and every host's Hangfire server failed to send a heartbeat; then starts it again, whatever
    /// happens. Returns the database's clock once it is back.
    /// </summary>
    private async Task<DateTime> OutageAsync(IReadOnlyList<HostProcess> hosts, string jobFailed, string what)
    {
        await DatabaseOutage.RunAsync(
            postgres,
            hosts,
            seen => hosts.Select((h, i) => h.Lines.Skip(seen[i])).SelectMany(l => l).Any(l => l.StartsWith(jobFailed, StringComparison.Ordinal)),
            what,
            output);
        return await new StorageProbe(postgres.ConnectionString).NowAsync();
    }

    private static async Task<long> DispatchedItemsAsync(StorageProbe probe, string runId) =>
        long.Parse(await probe.RunFieldAsync(runId, "DispatchedItems") ?? "0", CultureInfo.InvariantCulture);

}
