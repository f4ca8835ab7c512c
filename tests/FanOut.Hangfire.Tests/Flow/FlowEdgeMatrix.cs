using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Flow;

/// <summary>
/// What must not leak or overshoot under a limit (design.md invariant 13), on InMemory and PostgreSQL: retries wait for
/// a slot again; a job deleted while it waits leaves the line; a job deleted or requeued while its call runs keeps its
/// slot until the call returns; a run's failed items retried wait their turn; a bad key fails only its item. Every
/// count is taken from the handler's own start and end records.
/// </summary>
public abstract class FlowEdgeMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Limit = "handler:notify";

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Retries_EachFailingOnce_WaitForASlotAgainAndNeverOvershoot(int delaySeconds)
    {
        // No delay: the worker re-enqueues the job itself. One second: Hangfire schedules it, and moves a job with a
        // queue from Scheduled straight to its queue, where a worker takes it with no Enqueued state in between.
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(30) };
        var items = TestItems.Numbered(40, "all-");
        foreach (var id in items.Ids.Where((_, i) => i % 2 == 0))
        {
            log.FailuresLeft[id] = 1;
        }

        await using var host = await StartCronAsync(log, items, h =>
        {
            h.ConcurrencyLimit = 2;
            h.RetryDelays.Add(TimeSpan.FromSeconds(delaySeconds));
        });

        FireCron(host, "tenants");

        await Wait.UntilAsync(() => log.Calls.Count(c => !c.Failed) >= 40, Timeout, () => $"{log.Calls.Count(c => !c.Failed)} of 40 succeeded, {log.Live} live");
        log.Calls.Should().HaveCount(60, "20 items failed once and were retried once");
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(2);
        await Wait.UntilAsync(() => JobCensus.Holding(host.Storage, Limit).Count == 0, Timeout, () => $"{JobCensus.Holding(host.Storage, Limit).Count} slots still held");
    }

    [Fact]
    public async Task Delete_AJobWhileItWaits_LeavesTheLineAndTheOthersAllRun()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(10), Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), GatedPrefix = "all-000000" };
        var items = TestItems.Numbered(10, "all-");
        await using var host = await StartCronAsync(log, items, h => h.ConcurrencyLimit = 1);

        FireCron(host, "tenants");

        await Wait.UntilAsync(() => JobCensus.Waiting(host.Storage, Limit).Count == 9, Timeout, () => $"{JobCensus.Waiting(host.Storage, Limit).Count} of 9 waiting");
        var waiting = JobCensus.Waiting(host.Storage, Limit);
        var client = host.Services.GetRequiredService<IBackgroundJobClient>();
        client.Delete(waiting[3]).Should().BeTrue();
        JobCensus.Waiting(host.Storage, Limit).Should().HaveCount(8).And.NotContain(waiting[3]);

        log.Gate!.SetResult();
        await Wait.UntilAsync(() => log.Count >= 9, Timeout, () => $"{log.Count} of 9 calls");
        log.Calls.Should().HaveCount(9, "the deleted job never runs");
        JobCensus.StateOf(host.Storage, waiting[3]).Should().Be("Deleted");
        await Wait.UntilAsync(() => JobCensus.Holding(host.Storage, Limit).Count == 0, Timeout, () => "a slot is still held");
        JobCensus.Waiting(host.Storage, Limit).Should().BeEmpty();
    }

    [Fact]
    public async Task Delete_AJobWhileItsCallRuns_KeepsTheSlotUntilTheCallReturns()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(10), Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), GatedPrefix = "all-000000" };
        var items = TestItems.Numbered(6, "all-");
        await using var host = await StartCronAsync(log, items, h => h.ConcurrencyLimit = 1);

        FireCron(host, "tenants");
        await Wait.UntilAsync(() => log.JobIds.ContainsKey("all-000000") && JobCensus.Waiting(host.Storage, Limit).Count == 5, Timeout, () => "the first call has not started");

        var client = host.Services.GetRequiredService<IBackgroundJobClient>();
        client.Delete(log.JobIds["all-000000"]).Should().BeTrue();

        // The deleted job's call still runs (its handler ignores the token), so nothing else may start.
        await Wait.UntilAsync(() => JobCensus.Holding(host.Storage, Limit).Any(m => m.StartsWith("orphan|", StringComparison.Ordinal)), Timeout, () => "the slot did not pass to an orphan record");
        log.Count.Should().Be(0);
        JobCensus.Waiting(host.Storage, Limit).Should().HaveCount(5);

        log.Gate!.SetResult();
        await Wait.UntilAsync(() => log.Count >= 6, Timeout, () => $"{log.Count} of 6 calls");
        CallLog.PeakOf(log.Calls).Should().Be(1);
        await Wait.UntilAsync(() => JobCensus.Holding(host.Storage, Limit).Count == 0, Timeout, () => "a slot is still held");
    }

    [Fact]
    public async Task Requeue_AJobWhileItsCallRuns_RunsItAgainOnlyOnceTheOldCallReturned()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(10), Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), GatedPrefix = "all-000000" };
        var items = TestItems.Numbered(4, "all-");
        await using var host = await StartCronAsync(log, items, h => h.ConcurrencyLimit = 1);

        FireCron(host, "tenants");
        await Wait.UntilAsync(() => log.JobIds.ContainsKey("all-000000") && JobCensus.Waiting(host.Storage, Limit).Count == 3, Timeout, () => "the first call has not started");
        var jobId = log.JobIds["all-000000"];

        // Hangfire's client answers false: the requeued job went on to wait for a slot, not to Enqueued.
        host.Services.GetRequiredService<IBackgroundJobClient>().Requeue(jobId).Should().BeFalse();
        await Wait.UntilAsync(() => JobCensus.Waiting(host.Storage, Limit).Contains(jobId), Timeout, () => "the requeued job does not wait");

        log.Gate!.SetResult();
        await Wait.UntilAsync(() => log.Calls.Count >= 5 && JobCensus.Holding(host.Storage, Limit).Count == 0, Timeout, () => $"{log.Count} of 5 calls");
        log.Calls.Should().HaveCount(5, "the requeued item runs a second time");
        CallLog.PeakOf(log.Calls).Should().Be(1);
    }

    [Fact]
    public async Task RetryFailed_AfterTheRunEndedWithFailures_RequeuedItemsWaitTheirTurnAndAllSucceed()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(20) };
        var items = TestItems.Numbered(12, "all-");
        foreach (var id in items.Ids)
        {
            log.FailuresLeft[id] = 1;
        }

        await using var host = await StartCronAsync(log, items, h =>
        {
            h.ConcurrencyLimit = 2;
            h.RetryAttempts = 0;
        });

        FireCron(host, "tenants");
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = (await runs.ListAsync("tenants")).FirstOrDefault()) is { Status: FanOutRunStatus.CompletedWithFailures },
            Timeout,
            () => $"run is {run?.Status}");

        (await runs.RetryFailedAsync(run!.RunId)).Should().Be(12);
        await Wait.UntilAsync(
            async () => (await runs.GetAsync(run.RunId)) is { Status: FanOutRunStatus.Completed },
            Timeout,
            () => $"{log.Calls.Count(c => !c.Failed)} of 12 retried calls succeeded");
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(2);
        log.Calls.Should().HaveCount(24);
    }

    [Fact]
    public async Task BadKey_ForSomeItems_FailsOnlyThoseItemsSayingWhyAndTheRestRun()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        var items = new TestItems();
        items.Ids.AddRange(["a-1", "a-2", "throws-1", "empty-1", "b-1"]);
        await using var host = await StartAsync(fanOut => fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>("notify", on: "tenant/due", h =>
                {
                    h.ConcurrencyLimitPerKey = 1;
                    h.UseConcurrencyKey<string>(item => item.StartsWith("throws", StringComparison.Ordinal)
                        ? throw new FormatException("no tenant in " + item)
                        : item.StartsWith("empty", StringComparison.Ordinal) ? null : CallLog.KeyOf(item));
                }),
            services => services.AddSingleton(log).AddSingleton(items));

        FireCron(host, "tenants");

        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = (await runs.ListAsync("tenants")).FirstOrDefault()) is { Status: FanOutRunStatus.CompletedWithFailures },
            Timeout,
            () => $"run is {run?.Status}");
        log.Calls.Select(c => c.Item).Should().BeEquivalentTo(["a-1", "a-2", "b-1"]);
        var failed = await runs.GetFailedItemsAsync(run!.RunId);
        failed.Select(f => f.ItemKey).Should().BeEquivalentTo(["throws-1", "empty-1"]);
        failed.Single(f => f.ItemKey == "throws-1").ExceptionMessage.Should().Contain("concurrency key function of handler 'notify' threw for item 'throws-1'").And.Contain("no tenant in throws-1");
        failed.Single(f => f.ItemKey == "empty-1").ExceptionMessage.Should().Contain("returned null for item 'empty-1'");
    }

    [Fact]
    public async Task SharedLimit_TwoHandlersOfTwoEvents_ShareOneBudget()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(30) };
        var items = TestItems.Numbered(30, "all-");
        await using var host = await StartAsync(fanOut => fanOut
                .AddLimit("slack-api", l => l.ConcurrencyLimit = 2)
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddCron<ListSource>("accounts", "0 4 * * *", sends: "account/due")
                .AddHandler<LoggedHandler>("notify", on: "tenant/due", h => h.Limit = "slack-api")
                .AddHandler<LoggedHandler>("remind", on: "account/due", h => h.Limit = "slack-api"),
            services => services.AddSingleton(log).AddSingleton(items),
            workers: 10);

        FireCron(host, "tenants");
        FireCron(host, "accounts");

        await Wait.UntilAsync(() => log.Count >= 60, Timeout, () => $"{log.Count} of 60 calls");
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(2);
        log.Calls.Select(c => c.Handler).Distinct().Should().BeEquivalentTo(["notify", "remind"]);
    }

    [Fact]
    public async Task Visibility_WhileJobsWait_RunsAndLimitsSayHowManyWaitAndHold()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5), Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), GatedPrefix = "big-" };
        var items = new TestItems();
        items.Ids.AddRange(Enumerable.Range(0, 8).Select(i => $"big-{i}"));
        items.Ids.AddRange(["small-1"]);
        await using var host = await StartCronAsync(log, items, h =>
        {
            h.ConcurrencyLimit = 3;
            h.ConcurrencyLimitPerKey = 2;
            h.UseConcurrencyKey<string>(CallLog.KeyOf);
        });

        FireCron(host, "tenants");
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        await Wait.UntilAsync(
            async () => log.Count >= 1 && log.Live == 2 && (await runs.GetLimitsAsync()).Single().Running == 2,
            Timeout,
            () => $"{log.Count} done, {log.Live} live");

        var limit = (await runs.GetLimitsAsync()).Should().ContainSingle().Subject;
        limit.Name.Should().Be("notify");
        limit.HandlerIds.Should().Equal("notify");
        limit.Description.Should().Be("3 at once, 2 at once per key");
        limit.Running.Should().Be(2);
        limit.Waiting.Should().Be(6);
        limit.BusiestKeys.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Key = "big", Running = 2L, Waiting = 6L });
        var run = (await runs.ListAsync("tenants")).Single();
        run.Handlers.Single().Waiting.Should().Be(6);
        run.Handlers.Single().InFlight.Should().Be(8);

        log.Gate!.SetResult();
        await Wait.UntilAsync(async () => (await runs.GetAsync(run.RunId)) is { Status: FanOutRunStatus.Completed }, Timeout, () => $"{log.Count} of 9 calls");
        (await runs.GetAsync(run.RunId))!.Handlers.Single().Waiting.Should().Be(0);
        (await runs.GetLimitsAsync()).Single().Running.Should().Be(0);
    }

    private Task<TestHost> StartCronAsync(CallLog log, TestItems items, Action<FanOutHandlerOptions> handler) =>
        StartAsync(fanOut => fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>("notify", on: "tenant/due", handler),
            services => services.AddSingleton(log).AddSingleton(items),
            workers: 6);
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class FlowEdgesOnInMemory() : FlowEdgeMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class FlowEdgesOnPostgreSql(PostgresServer server) : FlowEdgeMatrix(StorageUnderTest.PostgreSql(server));
