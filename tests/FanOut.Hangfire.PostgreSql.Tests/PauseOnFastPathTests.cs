using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// Pauses with the fast path (design.md invariant 16): the jobs of paused handlers, one limited and one not, are written
/// in bulk straight into their paused state, hold no slot, and each runs once after the resume.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PauseOnFastPathTests(PostgresServer postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task PausedHandlers_DispatchedOnTheFastPath_TheirJobsWait_AndAfterTheResumeEachRunsOnceUnderItsLimit()
    {
        var database = await postgres.CreateDatabaseAsync("pause_fastpath");
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        var items = TestItems.Numbered(120, "all-");
        await using var host = await TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 50);
                fanOut
                    .UsePostgreSqlDispatch()
                    .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                    .AddHandler<LoggedHandler>("notify", on: "tenant/due", h => h.ConcurrencyLimit = 3)
                    .AddHandler<LoggedHandler>("audit", on: "tenant/due");
            },
            services => services.AddSingleton(log).AddSingleton(items),
            workers: 6);
        var control = host.Services.GetRequiredService<IFanOutControl>();
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        await control.PauseHandlerAsync("notify");
        await control.PauseHandlerAsync("audit");

        host.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:tenants");

        await Wait.UntilAsync(
            async () => (await runs.ListAsync("tenants")).FirstOrDefault() is { Status: FanOutRunStatus.Running } run && run.Handlers.All(h => h.Paused == 120),
            Timeout,
            async () => $"{(await runs.ListAsync("tenants")).FirstOrDefault()?.Status}");
        log.Count.Should().Be(0);
        (await runs.GetLimitsAsync()).Single().Should().BeEquivalentTo(new { Running = 0L, Waiting = 0L }, "a paused job holds no slot and is in no line");

        await control.ResumeHandlerAsync("notify");
        await control.ResumeHandlerAsync("audit");

        await Wait.UntilAsync(
            async () => (await runs.ListAsync("tenants")).Single().Status == FanOutRunStatus.Completed,
            Timeout,
            () => $"{log.Count} of 240 calls");
        log.Calls.Select(c => (c.Handler, c.Item)).Should().OnlyHaveUniqueItems().And.HaveCount(240);
        CallLog.PeakOf(log.Calls.Where(c => c.Handler == "notify")).Should().BeLessThanOrEqualTo(3);
    }
}
