using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariants 2 and 5, the hard way: child jobs running on two server processes, one SIGKILLed mid-way and
/// started again. Hangfire.PostgreSql gives a dead worker's jobs back after the invisibility timeout.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WorkerKillTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int ChunkSize = 500;
    private static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Workers_OneOfTwoServersSigkilledMidRun_EveryItemCompletes_NoJobStaysProcessing_TheRunCompletesWithExactCounts()
    {
        var items = ReliabilityRun.Pick(5_000, 20_000);
        var database = await postgres.CreateDatabaseAsync("worker_kill");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Dispatch", DispatchPaths.PostgreSql), // The quick path to the jobs; the kill is about running them.
            ("Host:Workers", 8),
            ("Host:HandlerDelay", TimeSpan.FromMilliseconds(10)),
            ("Host:InvisibilityTimeout", InvisibilityTimeout),
            ("Host:DistributedLockTimeout", LockTimeout),
            ("Host:Sources:items:Items", items),
            ("FanOut:ChunkSize", ChunkSize));

        await using var first = await HostProcess.StartAsync("worker-a", database, [.. settings, new("Host:Trigger", "items")], output);
        var second = await HostProcess.StartAsync("worker-b", database, settings, output);
        HostProcess? restarted = null;
        List<long> interrupted;
        DateTime killedAt;
        string runId;
        try
        {
            runId = await probe.SingleRunIdAsync("items");
            await Wait.UntilAsync(
                async () => await probe.FinishedExecutionsAsync() >= items * 3 / 10,
                TimeSpan.FromSeconds(120),
                async () => $"30% of the {items} calls to finish; {await probe.FinishedExecutionsAsync()} did");

            await second.KillAsync();
            killedAt = await probe.NowAsync();
            interrupted = await probe.ProcessingJobsOfAsync(second.Pid);
            output.WriteLine($"Killed {second.Name} (pid {second.Pid}) at {killedAt:HH:mm:ss.fff} with {interrupted.Count} jobs processing.");
            restarted = await HostProcess.StartAsync("worker-b-restarted", database, settings, output);

            await Wait.UntilAsync(
                async () => await probe.ChildJobsInStateAsync("Succeeded") == items,
                TimeSpan.FromSeconds(180),
                async () => $"all {items} child jobs to succeed; {await probe.ChildJobsInStateAsync("Succeeded")} did, " +
                            $"{await probe.ChildJobsInStateAsync("Processing")} are processing");
            await Wait.UntilAsync(
                async () => await probe.RunFieldAsync(runId, "Completions") is not null,
                TimeSpan.FromSeconds(30),
                async () => $"run {runId} to complete; all {items} jobs succeeded and its succeeded counter says " +
                            $"{await probe.OutcomeCountAsync($"fanout:run:{runId}:first:succeeded")}");
        }
        finally
        {
            await second.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }

        DispatchPaths.Verify([.. first.Lines], DispatchPaths.PostgreSql);
        var jobs = await probe.ChildJobsAsync();
        jobs.Should().HaveCount(items).And.OnlyContain(j => j.State == "Succeeded" && j.RunId == runId);
        jobs.Select(j => j.ItemKey).Should().OnlyHaveUniqueItems();

        var executions = await probe.ExecutionsAsync();
        executions.Where(e => e.FinishedAt is not null).Select(e => e.ItemKey).Distinct().Should()
            .HaveCount(items, "every item's handler completed at least once");
        executions.Where(e => e.FinishedAt is null).Select(e => e.Pid).Distinct().Should()
            .BeSubsetOf([second.Pid], "only the killed process left calls unfinished");
        executions.Select(e => e.Pid).Distinct().Should().Contain([first.Pid, second.Pid, restarted!.Pid], "both servers worked, and the restarted one too");

        // Hangfire.PostgreSql's recovery: a dead worker's job is invisible until InvisibilityTimeout passes (plus
        // DistributedLockTimeout if the process died holding the job's state lock), then queued behind every job not
        // fetched yet, since its fetch takes never-fetched jobs first.
        interrupted.Should().NotBeEmpty("the kill landed while the second server was running jobs");
        var backlogDrained = await probe.LastFirstFetchAsync();
        var slack = TimeSpan.FromSeconds(5);
        foreach (var jobId in interrupted)
        {
            var history = await probe.StateHistoryAsync(jobId);
            history[^1].State.Should().Be("Succeeded", $"job {jobId} was interrupted by the kill and ran again");
            var resumed = history.First(s => s.State == "Processing" && s.At > killedAt).At;
            output.WriteLine($"Job {jobId}: processing again {(resumed - killedAt).TotalSeconds:F1} s after the kill.");
            resumed.Should().BeBefore(
                Later(killedAt + InvisibilityTimeout + LockTimeout, backlogDrained) + slack,
                $"job {jobId} of the killed server runs again once its invisibility timeout runs out and the jobs queued before it were fetched");
        }

        var record = await probe.RunRecordAsync(runId);
        record["Status"].Should().Be("dispatched");
        record["DispatchedItems"].Should().Be(items.ToString(CultureInfo.InvariantCulture));
        record["Completions"].Should().Be("1", "the run completes exactly once");
        (await probe.OutcomeCountAsync($"fanout:run:{runId}:first:succeeded")).Should().Be(items, "each job counts once however often it ran");
        (await probe.OutcomeCountAsync($"fanout:run:{runId}:first:failed")).Should().Be(0);
    }

    private static DateTime Later(DateTime a, DateTime b) => a > b ? a : b;

}
