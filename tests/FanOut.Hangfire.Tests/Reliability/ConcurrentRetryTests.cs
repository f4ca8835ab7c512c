using System.Globalization;
using Hangfire;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariant 1 when Hangfire runs one dispatch job twice at the same time, which it does by design: a
/// Processing job requeued from the dashboard is fetched by another worker while the first still runs it (and so is a
/// job whose fetch was not kept alive, after the invisibility timeout). The newer execution takes the run's lease over
/// and resumes from the checkpoint; the older one stops at its next commit (Hangfire aborts it too).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrentRetryTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Items = 3_000;
    private const int ChunkSize = 250;

    [Theory]
    [InlineData(DispatchPaths.Generic)]
    [InlineData(DispatchPaths.PostgreSql)]
    public async Task Dispatch_RunTwiceAtOnceAfterARequeueWhileProcessing_CreatesEachItemsJobOnce(string dispatchPath)
    {
        var database = await postgres.CreateDatabaseAsync("concurrent_retry");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Queues", "dispatch"),
            ("Host:Dispatch", dispatchPath),
            ("Host:Workers", 4),
            ("Host:Sources:items:Items", Items),
            ("Host:Sources:items:ChunkDelay", TimeSpan.FromMilliseconds(300)),
            ("FanOut:ChunkSize", ChunkSize));

        await using var host = await HostProcess.StartAsync("dispatcher", database, [.. settings, new("Host:Trigger", "items")], output);
        await Wait.UntilAsync(
            async () => long.TryParse(await probe.RunFieldOfFanOutAsync("items", "DispatchedItems"), out var done) && done >= 1_000,
            TimeSpan.FromSeconds(60),
            () => Task.FromResult("the dispatch to pass 1,000 items"));
        var running = (await probe.DispatchJobsAsync("items")).Single();
        new BackgroundJobClient(TestHost.Postgres(database))
            .Requeue(running.JobId.ToString(CultureInfo.InvariantCulture)).Should().BeTrue("the dispatch was Processing");
        await Wait.UntilAsync(
            async () => (await probe.DispatchJobsAsync("items")).SingleOrDefault()?.State is "Succeeded" or "Failed",
            TimeSpan.FromSeconds(120),
            async () => $"the dispatch to end; {await probe.ChildJobsInStateAsync("Enqueued")} jobs enqueued so far.{host.Tail()}");
        await Wait.UntilAsync(
            async () => (await probe.ProcessingJobsOfAsync(host.Pid)).Count == 0,
            TimeSpan.FromSeconds(60),
            () => Task.FromResult("every execution of the dispatch to end"));

        var dispatch = (await probe.DispatchJobsAsync("items")).Single();
        DispatchPaths.Verify(host.Lines, dispatchPath);
        var reads = await probe.SourceReadsAsync("items");
        output.WriteLine($"The source was read {reads.Count} times: {string.Join(", ", reads.Select(r => $"{r.StartedAt:HH:mm:ss.fff}-{r.FinishedAt:HH:mm:ss.fff}"))}");
        host.Lines.Count(l => l.StartsWith("dispatch-performing|", StringComparison.Ordinal))
            .Should().BeGreaterThan(1, "a second worker ran the requeued dispatch while the first still ran it; that is the scenario");

        var jobs = await probe.ChildJobsAsync();
        output.WriteLine($"{jobs.Count} child jobs for {Items} items.");
        jobs.GroupBy(j => (j.HandlerId, j.ItemKey)).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").Take(10)
            .Should().BeEmpty("every (item, handler) job of the run exists exactly once, however many workers ran the dispatch");
        jobs.Should().HaveCount(Items);
        dispatch.State.Should().Be("Succeeded");
        (await probe.RunFieldAsync(dispatch.RunId!, "DispatchedItems")).Should().Be(Items.ToString(CultureInfo.InvariantCulture));
    }
}
