using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariant 5 on Hangfire.PostgreSql, and a regression test: a run's counts were once Hangfire counters, and
/// each Hangfire.PostgreSql server folds counter rows into totals at start-up and every
/// <c>CountersAggregateInterval</c> (5 minutes by default) in two statements that lose increments committed between
/// them and double-count when two servers fold at once. Runs now count job ids in sets; with aggregation running all
/// the time and several servers, every job must still be counted once, or the run never completes (too few) or
/// completes early (too many).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CounterAggregationTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task RunCounters_WhileHangfirePostgreSqlAggregatesItsCounters_CountEveryJobOnce_AndTheRunCompletes()
    {
        const int items = 3_000;
        var database = await postgres.CreateDatabaseAsync("counter_aggregation");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Dispatch", DispatchPaths.PostgreSql),
            ("Host:Workers", 8),
            // What happens once every 5 minutes on every server, made to happen all the time.
            ("Host:CountersAggregateInterval", TimeSpan.FromMilliseconds(50)),
            ("Host:Sources:items:Items", items));

        await using var first = await HostProcess.StartAsync("server-a", database, [.. settings, new("Host:Trigger", "items")], output);
        await using var second = await HostProcess.StartAsync("server-b", database, settings, output);
        List<string> runs = [];
        await Wait.UntilAsync(
            async () => (runs = await probe.RunIdsAsync("items")).Count > 0,
            TimeSpan.FromSeconds(60),
            () => Task.FromResult("the run to start"));
        var runId = runs.Single();
        await Wait.UntilAsync(
            async () => await probe.ChildJobsInStateAsync("Succeeded") == items,
            TimeSpan.FromSeconds(120),
            async () => $"all {items} jobs to succeed; {await probe.ChildJobsInStateAsync("Succeeded")} did");

        var counted = 0L;
        await Wait.UntilAsync(
            async () => (counted = await probe.OutcomeCountAsync($"fanout:run:{runId}:first:succeeded")) >= items
                        && await probe.RunFieldAsync(runId, "Completions") is not null,
            TimeSpan.FromSeconds(20),
            () => Task.FromResult(
                $"run {runId} to complete: all {items} jobs succeeded, but its succeeded counter says {counted}, " +
                "so the run waits for jobs that already ended"));
        counted.Should().Be(items);
        (await probe.RunFieldAsync(runId, "Completions")).Should().Be("1");
    }
}
