using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Flow;

/// <summary>
/// Limits on InMemory and PostgreSQL: concurrency measured from the handler's own start and end records never goes over
/// a limit, and every item finishes (design.md invariant 13).
/// </summary>
public abstract class FlowMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    [Fact]
    public async Task GlobalLimit_MoreWorkersThanSlots_NeverRunsMoreAtOnceAndEveryItemRunsOnce()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(40) };
        var items = TestItems.Numbered(120, "all-");
        await using var host = await StartAsync(fanOut =>
        {
            fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 50);
            fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>("notify", on: "tenant/due", h => h.ConcurrencyLimit = 3);
        },
        services => services.AddSingleton(log).AddSingleton(items),
        workers: 10);

        FireCron(host, "tenants");

        await Wait.UntilAsync(() => log.Count >= 120, Timeout, () => $"{log.Count} of 120 calls, {log.Live} live");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.HaveCount(120);
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(3);
        CallLog.PeakOf(log.Calls).Should().Be(3, "with ten workers the three slots are kept busy");
    }

    [Fact]
    public async Task PerKeyLimit_OneBigKeyAndSmallOnes_KeepsEachKeyUnderItsLimitAndTheSmallKeysAreNotStarved()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(40) };
        var items = new TestItems();
        items.Ids.AddRange(Enumerable.Range(0, 150).Select(i => $"big-{i:D4}"));
        items.Ids.AddRange(Enumerable.Range(0, 5).SelectMany(k => Enumerable.Range(0, 6).Select(i => $"small{k}-{i:D4}")));
        await using var host = await StartAsync(fanOut =>
        {
            fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 100);
            fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>("notify", on: "tenant/due", h =>
                {
                    h.ConcurrencyLimit = 6;
                    h.ConcurrencyLimitPerKey = 2;
                    h.UseConcurrencyKey<string>(CallLog.KeyOf);
                });
        },
        services => services.AddSingleton(log).AddSingleton(items),
        workers: 12);

        FireCron(host, "tenants");

        await Wait.UntilAsync(() => log.Count >= 180, Timeout, () => $"{log.Count} of 180 calls, {log.Live} live");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems().And.HaveCount(180);
        CallLog.PeakOf(log.Calls).Should().BeLessThanOrEqualTo(6);
        foreach (var key in log.Calls.GroupBy(c => c.Key))
        {
            CallLog.PeakOf(key).Should().BeLessThanOrEqualTo(2, $"key {key.Key} has a limit of 2");
        }

        // Round-robin: the small keys (30 items, dispatched after the big key's 150) finish long before the big key does.
        var smallDone = log.Calls.Where(c => c.Key != "big").Max(c => c.Ended);
        var bigDone = log.Calls.Where(c => c.Key == "big").Max(c => c.Ended);
        smallDone.Should().BeBefore(bigDone);
    }

    [Fact]
    public async Task Throttle_TwoStartsPerSecond_SpacesStartsAndLosesNothing()
    {
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        var items = TestItems.Numbered(8, "t-");
        await using var host = await StartAsync(fanOut =>
        {
            fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<LoggedHandler>("notify", on: "tenant/due", h =>
                {
                    h.Throttle.PermitLimit = 4;
                    h.Throttle.Window = TimeSpan.FromSeconds(1);
                });
        },
        services => services.AddSingleton(log).AddSingleton(items),
        workers: 8);

        FireCron(host, "tenants");

        await Wait.UntilAsync(() => log.Count >= 8, Timeout, () => $"{log.Count} of 8 calls");
        var starts = log.Calls.Select(c => c.Started).Order().ToList();
        (starts[^1] - starts[0]).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(7 * 250 - 100), "eight starts at four a second are spread over 1.75 s");
        log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Throttle_ACallStartingLateAfterItsRelease_TheNextCallStillStartsAnIntervalAfterIt()
    {
        // Two starts a second: releases half a second apart. The second item's job is held back on its worker before its
        // call (as a slow fetch or a stalled process would), so without pacing at the start the third item's call,
        // released on time, would start a fifth of a second after it.
        var log = new CallLog { Duration = TimeSpan.FromMilliseconds(5) };
        var items = TestItems.Numbered(4, "paced-");
        var lag = new LaggingStart(items.Ids[1], TimeSpan.FromMilliseconds(300));
        GlobalJobFilters.Filters.Add(lag);
        try
        {
            await using var host = await StartAsync(fanOut =>
            {
                fanOut
                    .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                    .AddHandler<LoggedHandler>("notify", on: "tenant/due", h =>
                    {
                        h.Throttle.PermitLimit = 2;
                        h.Throttle.Window = TimeSpan.FromSeconds(1);
                    });
            },
            services => services.AddSingleton(log).AddSingleton(items),
            workers: 4);

            FireCron(host, "tenants");

            await Wait.UntilAsync(() => log.Count >= 4, Timeout, () => $"{log.Count} of 4 calls");
            lag.Held.Should().BeTrue("the second item's job was held back before its call");
            var starts = log.Calls.OrderBy(c => c.Started).ToList();
            for (var i = 1; i < starts.Count; i++)
            {
                // A little under the interval: the clock read inside the handler comes a moment after the start was taken.
                (starts[i].Started - starts[i - 1].Started).Should().BeGreaterThanOrEqualTo(
                    TimeSpan.FromMilliseconds(460),
                    "calls of a throttle of two a second start half a second apart ({0} after {1})", starts[i].Item, starts[i - 1].Item);
            }

            log.Calls.Select(c => c.Item).Should().OnlyHaveUniqueItems();
        }
        finally
        {
            GlobalJobFilters.Filters.Remove(lag);
        }
    }

    /// <summary>Holds back the call of one item's job on its worker, once, before the job's method runs.</summary>
    private sealed class LaggingStart(string itemKey, TimeSpan lag) : IServerFilter
    {
        private int _held;

        public bool Held => Volatile.Read(ref _held) == 1;

        public void OnPerforming(PerformingContext context)
        {
            if (context.BackgroundJob.Job.Args.OfType<string>().Contains(itemKey) && Interlocked.Exchange(ref _held, 1) == 0)
            {
                Thread.Sleep(lag);
            }
        }

        public void OnPerformed(PerformedContext context)
        {
        }
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class FlowOnInMemory() : FlowMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class FlowOnPostgreSql(PostgresServer server) : FlowMatrix(StorageUnderTest.PostgreSql(server));
