using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

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

/// <summary>
/// Pauses across processes on one PostgreSQL database (design.md invariant 16): a pause survives a restart, and a pause
/// made on one host holds back the jobs another host's workers fetch once that host has read it, within
/// <c>Pauses.RefreshInterval</c>.
/// </summary>
[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class PauseAcrossHostsTests(PostgresServer server, ITestOutputHelper output)
{
    private const string Cron = "tenants";
    private const string Handler = "notify";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Pause_SurvivesAHostRestart_AndTheJobsDispatchedAfterItWait()
    {
        var database = await server.CreateDatabaseAsync("pause");
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        var items = TestItems.Numbered(6, "all-");
        FanOutPause handlerPause;
        FanOutPause cronPause;
        await using (var first = await StartAsync(database, log, items))
        {
            var control = first.Services.GetRequiredService<IFanOutControl>();
            handlerPause = await control.PauseHandlerAsync(Handler);
            cronPause = await control.PauseFanOutAsync(Cron);
        }

        await using var second = await StartAsync(database, log, items);
        var restarted = second.Services.GetRequiredService<IFanOutControl>();
        (await restarted.GetPausedAsync()).Select(p => (p.Target, p.Id, p.PausedAt)).Should().Equal(
            (FanOutPauseTarget.CronFanOut, Cron, cronPause.PausedAt),
            (FanOutPauseTarget.Handler, Handler, handlerPause.PausedAt));

        // The fan-out is paused, but a trigger runs; its jobs wait for the handler.
        var runId = await second.Client.TriggerAsync(Cron);
        var runs = second.Services.GetRequiredService<IFanOutRuns>();
        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Handlers[0].Paused == 6, Timeout, async () => PauseMatrix.Describe(await runs.GetAsync(runId)));
        log.Count.Should().Be(0);

        await restarted.ResumeHandlerAsync(Handler);

        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.Completed, Timeout, async () => PauseMatrix.Describe(await runs.GetAsync(runId)));
        log.Calls.Select(c => c.Item).Should().BeEquivalentTo(items.Ids);
    }

    [Fact]
    public async Task Pause_MadeOnAHostWithoutWorkers_HoldsBackTheJobsAnotherHostsWorkerFetches_AndItsResumeReleasesThem()
    {
        var database = await server.CreateDatabaseAsync("pause");
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5), Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), GatedPrefix = "all-000000" };
        var items = TestItems.Numbered(6, "all-");
        await using var api = await StartAsync(database, log, items, server: false);
        await using var worker = await StartAsync(database, log, items, workers: 1);
        var control = api.Services.GetRequiredService<IFanOutControl>();
        var runs = api.Services.GetRequiredService<IFanOutRuns>();

        // The worker host's one worker holds the first call open; the five jobs behind it are enqueued.
        var runId = await api.Client.SendManyAsync("tenant/due", items.Ids);
        await Wait.UntilAsync(() => log.Live == 1, Timeout, () => "the first call has not started");

        var paused = DateTimeOffset.UtcNow;
        await control.PauseHandlerAsync(Handler);
        var workerPauses = worker.Services.GetRequiredService<FanOut.Hangfire.Flow.Pauses>();
        await Wait.UntilAsync(() => workerPauses.IsHandlerPaused(Handler), Timeout, () => "the worker host has not seen the pause");
        var seenAfter = DateTimeOffset.UtcNow - paused;
        output.WriteLine($"The other host saw the pause after {seenAfter.TotalMilliseconds:F0} ms (refresh interval {FanOut.Hangfire.Flow.Pauses.RefreshInterval.TotalMilliseconds:F0} ms).");
        seenAfter.Should().BeLessThan(FanOut.Hangfire.Flow.Pauses.RefreshInterval + TimeSpan.FromSeconds(5), "every process reads the pauses again every interval");

        log.Gate!.SetResult();
        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Handlers[0].Paused == 5, Timeout, async () => PauseMatrix.Describe(await runs.GetAsync(runId)));
        log.Count.Should().Be(1, "the enqueued jobs wait when the worker fetches them");

        await control.ResumeHandlerAsync(Handler);

        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.Completed, Timeout, async () => PauseMatrix.Describe(await runs.GetAsync(runId)));
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(items.Ids);
        log.Calls.OrderBy(c => c.Started).Select(c => c.Item).Should().Equal(items.Ids);
    }

    private static Task<TestHost> StartAsync(string database, CallLog log, TestItems items, int workers = 2, bool server = true) =>
        TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut => fanOut
                .AddCron<ListSource>(Cron, "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>(Handler, on: "tenant/due"),
            services => services.AddSingleton(log).AddSingleton(items),
            workers,
            server);
}

/// <summary>What pausing refuses and what configuration pauses (design.md invariant 16).</summary>
public sealed class PauseRulesTests
{
    [Fact]
    public async Task Pause_UnknownIds_ThrowNamingThemAndTheDeclaredOnes_AndStoreNothing()
    {
        await using var host = await StartAsync();
        var control = host.Services.GetRequiredService<IFanOutControl>();

        var handler = await control.Invoking(c => c.PauseHandlerAsync("no-such-handler")).Should().ThrowAsync<ArgumentException>();
        handler.Which.ParamName.Should().Be("handlerId");
        handler.Which.Message.Should().Contain("'no-such-handler'").And.Contain("'notify'");
        var cron = await control.Invoking(c => c.ResumeFanOutAsync("no-such-cron")).Should().ThrowAsync<ArgumentException>();
        cron.Which.ParamName.Should().Be("fanOutId");
        cron.Which.Message.Should().Contain("'no-such-cron'").And.Contain("'tenants'");
        (await control.Invoking(c => c.PauseFanOutAsync("notify")).Should().ThrowAsync<ArgumentException>())
            .Which.Message.Should().Contain("No cron fan-out 'notify'", "a handler's id is not a fan-out's");
        (await control.Invoking(c => c.ResumeHandlerAsync(" ")).Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("handlerId");
        (await control.GetPausedAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Configuration_PausesAHandlerAndAFanOut_TheyReadAsPausedByConfiguration_AndCannotBeResumedThroughTheApi()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["FanOut:Handlers:notify:Paused"] = "true",
                ["FanOut:CronFanOuts:tenants:Paused"] = "true",
            })
            .Build();
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        await using var host = await StartAsync(log, fanOut => fanOut.Services.AddFanOut(configuration.GetSection("FanOut")));
        var control = host.Services.GetRequiredService<IFanOutControl>();
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        (await control.GetPausedAsync()).Select(p => (p.Target, p.Id, p.PausedAt, p.ByConfiguration)).Should().Equal(
            (FanOutPauseTarget.CronFanOut, "tenants", (DateTimeOffset?)null, true),
            (FanOutPauseTarget.Handler, "notify", (DateTimeOffset?)null, true));
        (await control.Invoking(c => c.ResumeHandlerAsync("notify")).Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Contain("FanOut:Handlers:notify:Paused");
        (await control.Invoking(c => c.ResumeFanOutAsync("tenants")).Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Contain("FanOut:CronFanOuts:tenants:Paused");

        // A pause through the API on top is kept, and lifting it leaves configuration's in force.
        (await control.PauseHandlerAsync("notify")).ByConfiguration.Should().BeTrue();
        var runId = await host.Client.SendManyAsync("tenant/due", new[] { "a-1", "a-2", "a-3" });
        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Handlers[0].Paused == 3, TimeSpan.FromSeconds(60), async () => PauseMatrix.Describe(await runs.GetAsync(runId)));
        log.Count.Should().Be(0);

        host.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:tenants");
        await Wait.UntilAsync(async () => (await runs.ListAsync("tenants")).Any(r => r.SkipReason == "paused"), TimeSpan.FromSeconds(60), () => "the firing is not recorded skipped");
    }

    private static Task<TestHost> StartAsync(CallLog? log = null, Action<IFanOutBuilder>? more = null) =>
        TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut =>
            {
                fanOut
                    .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                    .AddHandler<LoggedHandler>("notify", on: "tenant/due");
                more?.Invoke(fanOut);
            },
            services => services.AddSingleton(log ?? new CallLog()).AddSingleton(TestItems.Numbered(2)));
}
