using FanOut.Hangfire.Flow;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// Concurrency limits with the fast path and its advisory limit lock: two hosts on one database (two processes'
/// servers) never run more calls at once than the limit allows, measured from the handler's own records.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FlowOnFastPathTests(PostgresServer postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task GlobalLimit_TwoHostsWithMoreWorkersThanSlots_NeverRunMoreAtOnceAndEveryItemRunsOnce()
    {
        var database = await postgres.CreateDatabaseAsync("flow_fastpath");
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(40) };
        var items = TestItems.Numbered(150, "all-");

        await using var first = await StartAsync(database, log, items);
        await using var second = await StartAsync(database, log, items);
        first.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:tenants");

        await Wait.UntilAsync(() => log.Count >= 150, Timeout, () => $"{log.Count} of 150 calls, {log.Live} live");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.HaveCount(150);
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(3);
        CallLog.PeakOf(log.Calls).Should().Be(3, "with twelve workers the three slots are kept busy");
        foreach (var host in new[] { first, second })
        {
            host.Services.GetRequiredService<IFanOutLimitLock>()
                .Should().BeOfType<PostgreSqlLimitLock>().Which.Chosen.Should().BeOfType<AdvisoryLimitLock>();
        }
    }

    private static Task<TestHost> StartAsync(string database, CallLog log, TestItems items) =>
        TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 50);
                fanOut
                    .UsePostgreSqlDispatch()
                    .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                    .AddHandler<LoggedHandler>("notify", on: "tenant/due", h => h.ConcurrencyLimit = 3);
            },
            services => services.AddSingleton(log).AddSingleton(items),
            workers: 6);
}
