using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// Pausing and resuming a handler and a cron fan-out, on InMemory and PostgreSQL (design.md invariant 16): a paused
/// handler's jobs wait in storage (on no worker, not failed, counted as paused), whether dispatched, already enqueued or
/// retried, and after the resume each runs once, oldest first, under its limit; a paused fan-out's firing is recorded
/// as skipped (paused) and a trigger runs it. Every call is counted from the handler's own records.
/// </summary>
public abstract class PauseMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Cron = "tenants";
    private const string Handler = "notify";

    [Fact]
    public async Task PauseHandler_MidRun_EnqueuedJobsWaitOnNoWorker_AndAfterResumeEachRunsOnceInOrder()
    {
        // One worker, so the calls run one after another in the order the worker fetches them.
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(40) };
        var items = TestItems.Numbered(24, "all-");
        await using var host = await StartCronAsync(log, items, workers: 1);
        var control = host.Services.GetRequiredService<IFanOutControl>();

        FireCron(host, Cron);
        await Wait.UntilAsync(() => log.Count >= 3, Timeout, () => $"{log.Count} of 3 calls");
        var pause = await control.PauseHandlerAsync(Handler);

        var run = await WaitForRunAsync(host, r => r.Handlers[0].Paused + r.Handlers[0].Succeeded == 24 && log.Live == 0, "to hold every job not run back");
        var ran = log.Count;
        pause.PausedAt.Should().NotBeNull();
        run.Status.Should().Be(FanOutRunStatus.Running);
        run.Handlers[0].Paused.Should().Be(24 - ran).And.BeGreaterThan(0);
        run.Handlers[0].Waiting.Should().Be(0, "paused jobs are counted apart from those waiting for a limit");
        run.Handlers[0].InFlight.Should().Be(24 - ran);
        host.Storage.GetMonitoringApi().ProcessingCount().Should().Be(0, "no paused job is on a worker");
        host.Storage.GetMonitoringApi().FailedCount().Should().Be(0);
        (await control.GetPausedAsync()).Should().ContainSingle().Which.Should().BeEquivalentTo(
            new { Target = FanOutPauseTarget.Handler, Id = Handler, PausedAt = pause.PausedAt, ByConfiguration = false });
        (await control.PauseHandlerAsync(Handler)).PausedAt.Should().Be(pause.PausedAt, "a second pause keeps the first one's time");

        (await control.ResumeHandlerAsync(Handler)).Should().BeTrue();

        await WaitForRunAsync(host, r => r.Status == FanOutRunStatus.Completed, "to complete after the resume");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.HaveCount(24);
        log.Calls.OrderBy(c => c.Started).Select(c => c.Item).Should().Equal(items.Ids, "the waiting jobs run oldest first");
        (await control.GetPausedAsync()).Should().BeEmpty();
        (await control.ResumeHandlerAsync(Handler)).Should().BeFalse("nothing is paused any more");
    }

    [Fact]
    public async Task PauseHandler_WithALimit_DispatchedJobsWaitHoldingNoSlot_AndAfterResumeRunInOrderUnderTheLimit()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(20) };
        var items = TestItems.Numbered(16, "all-");
        await using var host = await StartCronAsync(log, items, workers: 6, h => h.ConcurrencyLimit = 1);
        var control = host.Services.GetRequiredService<IFanOutControl>();
        await control.PauseHandlerAsync(Handler);

        FireCron(host, Cron);

        var run = await WaitForRunAsync(host, r => r.Status == FanOutRunStatus.Running && r.Handlers[0].Paused == 16, "to dispatch every job paused");
        log.Count.Should().Be(0);
        run.Handlers[0].Waiting.Should().Be(0);
        JobCensus.Holding(host.Storage, "handler:" + Handler).Should().BeEmpty("a paused job holds no slot");
        JobCensus.Waiting(host.Storage, "handler:" + Handler).Should().BeEmpty("a paused job is in no limit's line");

        await control.ResumeHandlerAsync(Handler);

        await WaitForRunAsync(host, r => r.Status == FanOutRunStatus.Completed, "to complete after the resume");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.HaveCount(16);
        CallLog.PeakOf(log.Calls).Should().Be(1);
        log.Calls.OrderBy(c => c.Started).Select(c => c.Item).Should().Equal(items.Ids);
        await Wait.UntilAsync(() => JobCensus.Holding(host.Storage, "handler:" + Handler).Count == 0, Timeout, () => "a slot is still held");
    }

    [Fact]
    public async Task PauseHandler_WithALimitMidRun_JobsWaitingForASlotAndThoseEnqueuedAllWait_AndNoneIsLost()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(30) };
        var items = TestItems.Numbered(30, "all-");
        await using var host = await StartCronAsync(log, items, workers: 6, h => h.ConcurrencyLimit = 2);
        var control = host.Services.GetRequiredService<IFanOutControl>();

        FireCron(host, Cron);
        await Wait.UntilAsync(() => log.Count >= 4, Timeout, () => $"{log.Count} of 4 calls");
        await control.PauseHandlerAsync(Handler);

        await WaitForRunAsync(host, r => r.Handlers[0].Paused + r.Handlers[0].Succeeded == 30 && log.Live == 0, "to hold every job not run back");
        var ran = log.Count;
        await Wait.UntilAsync(() => JobCensus.Holding(host.Storage, "handler:" + Handler).Count == 0, Timeout, () => "a paused handler's slots are still held");
        JobCensus.Waiting(host.Storage, "handler:" + Handler).Should().BeEmpty();
        log.Count.Should().Be(ran, "nothing runs while the handler is paused");

        await control.ResumeHandlerAsync(Handler);

        await WaitForRunAsync(host, r => r.Status == FanOutRunStatus.Completed, "to complete after the resume");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.HaveCount(30);
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(2);
    }

    [Fact]
    public async Task PauseHandler_ARetryComingDueWhilePaused_WaitsAndRunsAfterTheResume()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(10) };
        var items = TestItems.Numbered(3, "all-");
        log.FailuresLeft["all-000001"] = 1;
        await using var host = await StartCronAsync(log, items, workers: 2, h => h.RetryDelays.Add(TimeSpan.FromSeconds(2)));
        var control = host.Services.GetRequiredService<IFanOutControl>();

        FireCron(host, Cron);
        await Wait.UntilAsync(() => log.Calls.Count(c => c.Failed) == 1 && log.Count == 3, Timeout, () => $"{log.Count} of 3 calls, the failure among them");
        await control.PauseHandlerAsync(Handler);

        // The retry comes due two seconds after the failure; it waits rather than runs.
        await WaitForRunAsync(host, r => r.Handlers[0].Paused == 1, "to hold the retry back");
        log.Count.Should().Be(3);

        await control.ResumeHandlerAsync(Handler);

        var run = await WaitForRunAsync(host, r => r.Status == FanOutRunStatus.Completed, "to complete after the resume");
        run.Succeeded.Should().Be(3);
        log.Calls.Where(c => c.Item == "all-000001").Should().HaveCount(2);
    }

    [Fact]
    public async Task PauseFanOut_AFiringIsRecordedSkippedAsPaused_AndATriggerRunsIt()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        var items = TestItems.Numbered(4, "all-");
        await using var host = await StartCronAsync(log, items, workers: 2);
        var control = host.Services.GetRequiredService<IFanOutControl>();
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var pause = await control.PauseFanOutAsync(Cron);

        FireCron(host, Cron);

        await Wait.UntilAsync(async () => (await runs.ListAsync(Cron)).Any(), Timeout, () => "the firing is not recorded");
        var skipped = (await runs.ListAsync(Cron)).Single();
        skipped.Status.Should().Be(FanOutRunStatus.Skipped);
        skipped.SkipReason.Should().Be("paused");
        skipped.DispatchedJobs.Should().Be(0);
        (await control.GetPausedAsync()).Should().ContainSingle().Which.Should().BeEquivalentTo(
            new { Target = FanOutPauseTarget.CronFanOut, Id = Cron, PausedAt = pause.PausedAt, ByConfiguration = false });

        var triggered = await host.Client.TriggerAsync(Cron);

        await Wait.UntilAsync(async () => (await runs.GetAsync(triggered))?.Status == FanOutRunStatus.Completed, Timeout, () => $"{log.Count} of 4 calls");
        log.Calls.Should().HaveCount(4, "a manual trigger runs while the fan-out is paused");

        (await control.ResumeFanOutAsync(Cron)).Should().BeTrue();
        FireCron(host, Cron);

        await Wait.UntilAsync(() => log.Count >= 8, Timeout, () => $"{log.Count} of 8 calls");
        (await runs.ListAsync(Cron)).Select(r => r.Status).Should().NotContain(FanOutRunStatus.Dispatching);
        (await runs.ListAsync(Cron)).Count(r => r.Status == FanOutRunStatus.Skipped).Should().Be(1);
    }

    private static async Task<FanOutRun> WaitForRunAsync(TestHost host, Func<FanOutRun, bool> condition, string what)
    {
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = (await runs.ListAsync(Cron)).FirstOrDefault()) is { } found && condition(found),
            Timeout,
            () => $"the run {what}: {Describe(run)}");
        return run!;
    }

    internal static string Describe(FanOutRun? run) => run is null
        ? "no run yet"
        : $"{run.Status}, {run.DispatchedJobs} jobs, {run.Succeeded} succeeded, {run.Failed} failed, {run.InFlight} in flight, "
            + string.Join(", ", run.Handlers.Select(h => $"{h.HandlerId}: {h.Paused} paused, {h.Waiting} waiting"));

    private Task<TestHost> StartCronAsync(CallLog log, TestItems items, int workers, Action<FanOutHandlerOptions>? handler = null) =>
        StartAsync(fanOut => fanOut
                .AddCron<ListSource>(Cron, "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>(Handler, on: "tenant/due", h => handler?.Invoke(h)),
            services => services.AddSingleton(log).AddSingleton(items),
            workers);
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class PauseOnInMemory() : PauseMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class PauseOnPostgreSql(PostgresServer server) : PauseMatrix(StorageUnderTest.PostgreSql(server));
