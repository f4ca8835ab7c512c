using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// Retrying the failed items of every run of a fan-out or event in a time range, on InMemory and PostgreSQL
/// (design.md invariant 17).
/// </summary>
public abstract class BulkRetryTests(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Event = "tenant/due";

    [Fact]
    public async Task RetryFailedRuns_RequeuesTheFailedJobsOfTheRunsInTheRange_AndLeavesTheOthers()
    {
        var (recorder, broken) = (new Recorder(), new BrokenItems());
        await using var host = await StartAsync(Declare, services => services.AddSingleton(recorder).AddSingleton(broken));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var sent = new List<FanOutRun>();
        foreach (var batch in new[] { "a", "b", "c" })
        {
            var items = Enumerable.Range(0, 5).Select(i => $"{batch}-{i}").ToArray();
            broken.Keys[items[1]] = true;
            broken.Keys[items[3]] = true;
            sent.Add((await runs.GetAsync(await host.Client.SendManyAsync(Event, items)))!);
        }

        foreach (var run in sent)
        {
            await WaitForAsync(runs, run.RunId, r => r.Status == FanOutRunStatus.CompletedWithFailures, "to complete with failures");
        }

        broken.Keys.Clear();
        var (first, second, third) = (sent[0], sent[1], sent[2]);

        var result = await runs.RetryFailedRunsAsync(Event, second.TriggeredAt!.Value, third.TriggeredAt!.Value.AddTicks(1));

        result.Should().BeEquivalentTo(new { RunsExamined = 2, RunsRetried = 2, JobsRequeued = 4 });
        await WaitForAsync(runs, second.RunId, r => r.Status == FanOutRunStatus.Completed && r.Completions == 2, "to complete again");
        await WaitForAsync(runs, third.RunId, r => r.Status == FanOutRunStatus.Completed && r.Completions == 2, "to complete again");
        var untouched = (await runs.GetAsync(first.RunId))!;
        untouched.Should().BeEquivalentTo(new { Status = FanOutRunStatus.CompletedWithFailures, Failed = 2L, Completions = 1 }, "it started before the range");
        recorder.Calls.Select(c => c.Key).Should().OnlyHaveUniqueItems().And.HaveCount(13, "3 runs of 3 good items, and the 4 retried");
    }

    [Fact]
    public async Task RetryFailedRuns_OfACronFanOut_TwoAtOnce_RequeueEachFailedJobOnce()
    {
        var (recorder, broken) = (new Recorder(), new BrokenItems());
        var items = TestItems.Numbered(30);
        foreach (var id in items.Ids.Where((_, i) => i % 10 == 4))
        {
            broken.Keys[id] = true;
        }

        await using var host = await StartAsync(
            fanOut => Declare(fanOut.AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)),
            services => services.AddSingleton(recorder).AddSingleton(broken).AddSingleton(items));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var runIds = new[] { await host.Client.TriggerAsync("nightly"), await host.Client.TriggerAsync("nightly") };
        foreach (var runId in runIds)
        {
            await WaitForAsync(runs, runId, r => r.Status == FanOutRunStatus.CompletedWithFailures, "to complete with failures");
        }

        broken.Keys.Clear();
        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            Task.Run(() => runs.RetryFailedRunsAsync("nightly", before, DateTimeOffset.UtcNow.AddMinutes(1)))));

        results.Sum(r => r.JobsRequeued).Should().Be(6, "each of the 3 failed jobs of each run is requeued once, by one of the two");
        results.Should().AllSatisfy(r => r.RunsExamined.Should().Be(2));
        foreach (var runId in runIds)
        {
            await WaitForAsync(runs, runId, r => r.Status == FanOutRunStatus.Completed, "to complete after the retry");
        }

        recorder.Calls.Select(c => (c.Context.RunId, c.Key)).Should().OnlyHaveUniqueItems().And.HaveCount(60);
    }

    [Fact]
    public async Task RetryFailedRuns_BadArguments_ThrowForTheParameter_AndARangeWithNothingRequeuesNothing()
    {
        await using var host = await StartAsync(Declare, services => services.AddSingleton<Recorder>().AddSingleton<BrokenItems>());
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var now = DateTimeOffset.UtcNow;

        (await runs.Invoking(r => r.RetryFailedRunsAsync(Event, now, now.AddSeconds(-1))).Should().ThrowAsync<ArgumentOutOfRangeException>())
            .Which.ParamName.Should().Be("to");
        (await runs.Invoking(r => r.RetryFailedRunsAsync(" ", now, now)).Should().ThrowAsync<ArgumentException>())
            .Which.ParamName.Should().Be("name");
        (await runs.RetryFailedRunsAsync("no-such-event", now.AddDays(-1), now)).Should().BeEquivalentTo(new { RunsExamined = 0, RunsRetried = 0, JobsRequeued = 0 });
    }

    private static void Declare(IFanOutBuilder fanOut) =>
        fanOut.AddHandler<SometimesBrokenHandler>("notify", on: Event, o => o.RetryAttempts = 0);

    private static async Task WaitForAsync(IFanOutRuns runs, string runId, Func<FanOutRun, bool> condition, string what) =>
        await Wait.UntilAsync(
            async () => await runs.GetAsync(runId) is { } run && condition(run),
            Timeout,
            async () => $"run {runId} {what}: {Describe(await runs.GetAsync(runId))}");

    private static string Describe(FanOutRun? run) =>
        run is null ? "no record" : $"{run.Status}, {run.Failed} failed, {run.Completions} completions";
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class BulkRetryOnInMemory() : BulkRetryTests(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class BulkRetryOnPostgreSql(PostgresServer server) : BulkRetryTests(StorageUnderTest.PostgreSql(server));
