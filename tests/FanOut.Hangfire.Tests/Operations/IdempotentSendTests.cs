using System.Runtime.CompilerServices;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// Idempotent sends and triggers on InMemory and PostgreSQL: one key, one run, however many sends race, and a send that
/// stored nothing leaves its key free (design.md invariant 17).
/// </summary>
public abstract class IdempotentSendTests(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    protected const string Event = "tenant/due";

    [Fact]
    public async Task Send_SameKeyTwice_ReturnsTheFirstRunId_AndSendsNothingMore()
    {
        var recorder = new Recorder();
        await using var host = await StartAsync(Declare, services => services.AddSingleton(recorder));
        var key = new FanOutSendOptions { IdempotencyKey = "order-42" };

        var first = await host.Client.SendAsync(Event, "t-1", key);
        var again = await host.Client.SendAsync(Event, "t-2", key);
        var many = await host.Client.SendManyAsync(Event, new[] { "t-3", "t-4" }, key);
        var streamed = await host.Client.SendManyAsync(Event, Stream("t-5"), key);
        var otherKey = await host.Client.SendAsync(Event, "t-6", new FanOutSendOptions { IdempotencyKey = "order-43" });
        var otherEvent = await host.Client.SendAsync("audit/due", "t-7", key);

        new[] { again, many, streamed }.Should().AllBe(first, "a key used within the window returns the first run's id");
        new[] { otherKey, otherEvent }.Should().OnlyHaveUniqueItems().And.NotContain(first, "a key is per event name");
        await Wait.UntilAsync(() => recorder.Calls.Count >= 3, Timeout, () => $"{recorder.Calls.Count} of 3 calls");
        await WaitCompletedAsync(host, first);
        recorder.Calls.Select(c => c.Key).Should().BeEquivalentTo(["t-1", "t-6", "t-7"], "the duplicates sent nothing");
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        (await runs.ListAsync(Event)).Select(r => r.RunId).Should().BeEquivalentTo([first, otherKey]);
    }

    [Fact]
    public async Task Send_TwentyIdenticalSendsRacing_MakeOneRunAndOneSetOfJobs()
    {
        var recorder = new Recorder();
        await using var host = await StartAsync(Declare, services => services.AddSingleton(recorder), workers: 8);
        var items = Enumerable.Range(0, 5).Select(i => $"t-{i}").ToArray();

        var runIds = await AllAtOnceAsync(20, _ => host.Client.SendManyAsync(Event, items, new FanOutSendOptions { IdempotencyKey = "import-2026-12-01" }));

        runIds.Distinct().Should().ContainSingle("exactly one of the racing sends starts a run");
        await WaitCompletedAsync(host, runIds[0]);
        recorder.Calls.Select(c => c.Key).Should().BeEquivalentTo(items, "one job per item, once");
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(items.Length).And.OnlyContain(j => j.RunId == runIds[0]);
        (await host.Services.GetRequiredService<IFanOutRuns>().ListAsync(Event)).Should().ContainSingle();
    }

    [Fact]
    public async Task Send_FailingBeforeAnyItemIsStored_LeavesTheKeyFree_AndARetryOfTheSendRuns()
    {
        var recorder = new Recorder();
        await using var host = await StartAsync(Declare, services => services.AddSingleton(recorder));
        var key = new FanOutSendOptions { IdempotencyKey = "webhook-7" };

        var failed = await host.Client.Invoking(c => c.SendManyAsync(Event, Failing(), key)).Should().ThrowAsync<FanOutSendException>();
        failed.Which.ItemsSent.Should().Be(0);
        var bad = await host.Client.Invoking(c => c.SendManyAsync(Event, new[] { "t-1", null! }, key)).Should().ThrowAsync<ArgumentException>();
        bad.Which.ParamName.Should().Be("items");

        var retried = await host.Client.SendAsync(Event, "t-1", key);

        retried.Should().NotBe(failed.Which.RunId, "the failed send stored no item, so its key did not stay with it");
        (await host.Client.SendAsync(Event, "t-2", key)).Should().Be(retried, "the send that stored its item holds the key");
        await WaitCompletedAsync(host, retried);
        recorder.Calls.Select(c => c.Key).Should().Equal(["t-1"]);
    }

    [Fact]
    public async Task Send_AfterTheWindow_StartsANewRun()
    {
        var clock = new ShiftedClock();
        await using var host = await StartAsync(Declare, services => services
            .AddSingleton<Recorder>()
            .AddSingleton<TimeProvider>(clock)
            .Configure<FanOutOptions>(o => o.IdempotencyWindow = TimeSpan.FromHours(1)));
        var key = new FanOutSendOptions { IdempotencyKey = "daily-report" };

        var first = await host.Client.SendAsync(Event, "t-1", key);
        clock.Advance(TimeSpan.FromMinutes(59));
        var within = await host.Client.SendAsync(Event, "t-1", key);
        clock.Advance(TimeSpan.FromMinutes(2));
        var after = await host.Client.SendAsync(Event, "t-1", key);

        within.Should().Be(first);
        after.Should().NotBe(first, "the window is an hour, and 61 minutes passed");
        (await host.Client.SendAsync(Event, "t-1", key)).Should().Be(after, "the new run holds the key for a new window");
    }

    [Fact]
    public async Task Trigger_SameKeyRacing_EnqueuesOneDispatch_AndReturnsOneRun()
    {
        var recorder = new Recorder();
        await using var host = await StartAsync(
            fanOut => Declare(fanOut.AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)),
            services => services.AddSingleton(recorder).AddSingleton(TestItems.Numbered(3)));
        var options = new FanOutSendOptions { IdempotencyKey = "rerun-after-incident-12" };

        var runIds = await AllAtOnceAsync(10, _ => host.Client.TriggerAsync("nightly", options));
        var otherFanOutKey = await host.Client.SendAsync(Event, "t-9", options);

        runIds.Distinct().Should().ContainSingle();
        otherFanOutKey.Should().NotBe(runIds[0], "a trigger's key is per cron fan-out, a send's per event");
        await WaitCompletedAsync(host, runIds[0]);
        await WaitCompletedAsync(host, otherFanOutKey);
        (await host.Services.GetRequiredService<IFanOutRuns>().ListAsync("nightly")).Should().ContainSingle();
        JobCensus.DispatchResults(host.Storage).Should().ContainSingle("one dispatch job was enqueued");
        recorder.CountOf("notify").Should().Be(4, "three items of the one triggered run, and the send");
    }

    // By position: a test case's text goes through xunit's serialization, which would mend a lone surrogate.
    private static readonly string[] BadKeys = ["", "   ", "nul\0inside", "line\nbreak", "lone \ud800 surrogate"];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Send_BadKey_ThrowsNamingTheKey_AndStoresNothing(int bad)
    {
        var key = BadKeys[bad];
        await using var host = await StartAsync(fanOut => Declare(fanOut.AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)),
            services => services.AddSingleton<Recorder>().AddSingleton(new TestItems()));
        var options = new FanOutSendOptions { IdempotencyKey = key };

        foreach (var call in new Func<Task>[]
        {
            () => host.Client.SendAsync(Event, "t-1", options),
            () => host.Client.SendManyAsync(Event, new[] { "t-1" }, options),
            () => host.Client.SendManyAsync(Event, Stream("t-1"), options),
            () => host.Client.TriggerAsync("nightly", options),
        })
        {
            var thrown = await call.Should().ThrowAsync<ArgumentException>();
            thrown.Which.ParamName.Should().Be("options");
            thrown.Which.Message.Should().Contain("FanOutSendOptions.IdempotencyKey");
        }

        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        (await runs.ListAsync(Event)).Should().BeEmpty();
        (await runs.ListAsync("nightly")).Should().BeEmpty();
    }

    [Fact]
    public async Task Send_KeyLongerThanTheLimit_ThrowsNamingTheKeyAndTheLimit_AndTheLongestAllowedWorks()
    {
        await using var host = await StartAsync(Declare, services => services.AddSingleton<Recorder>());
        var tooLong = new string('k', FanOutSendOptions.MaxIdempotencyKeyLength + 1);

        var thrown = await host.Client.Invoking(c => c.SendAsync(Event, "t-1", new FanOutSendOptions { IdempotencyKey = tooLong }))
            .Should().ThrowAsync<ArgumentException>();
        thrown.Which.ParamName.Should().Be("options");
        thrown.Which.Message.Should().Contain("kkkk").And.Contain("201 characters").And.Contain("200");

        var longest = new FanOutSendOptions { IdempotencyKey = "ключ:" + new string('é', FanOutSendOptions.MaxIdempotencyKeyLength - 5) };
        var first = await host.Client.SendAsync(Event, "t-1", longest);
        (await host.Client.SendAsync(Event, "t-1", longest)).Should().Be(first);
    }

    [Fact]
    public async Task Send_KeyRecord_IsWrittenWithTheRun_AndExpiresAfterTheWindow()
    {
        await using var host = await StartAsync(Declare, services => services.AddSingleton<Recorder>());

        var runId = await host.Client.SendAsync(Event, "t-1", new FanOutSendOptions { IdempotencyKey = "k-1" });

        using var connection = (global::Hangfire.Storage.JobStorageConnection)host.Storage.GetConnection();
        connection.GetAllEntriesFromHash(StorageKeys.Idempotency(Event, "k-1"))!["RunId"].Should().Be(runId);
        var ttl = connection.GetHashTtl(StorageKeys.Idempotency(Event, "k-1"));
        ttl.Should().BePositive().And.BeLessThanOrEqualTo(TimeSpan.FromHours(24));
    }

    protected static void Declare(IFanOutBuilder fanOut) => fanOut
        .AddHandler<RecordingHandler>("notify", on: Event)
        .AddHandler<RecordingHandler>("audit", on: "audit/due");

    protected static async Task WaitCompletedAsync(TestHost host, string runId)
    {
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.Completed, Timeout, () => $"run {runId} to complete");
    }

    /// <summary>
    /// Makes <paramref name="count"/> calls at the same instant, each on a thread of its own released by one barrier: the
    /// thread pool, growing slowly on a small machine, would otherwise run them nearly one after the other.
    /// </summary>
    protected static Task<string[]> AllAtOnceAsync(int count, Func<int, Task<string>> call)
    {
        var barrier = new Barrier(count);
        var calls = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(
            () =>
            {
                barrier.SignalAndWait();
                return call(i).GetAwaiter().GetResult();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToList();
        return Task.WhenAll(calls).ContinueWith(
            done =>
            {
                barrier.Dispose();
                return done.GetAwaiter().GetResult();
            },
            TaskScheduler.Default);
    }

    protected static async IAsyncEnumerable<string> Stream(params string[] items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }

    private static async IAsyncEnumerable<string> Failing([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException("The upstream feed went away before its first item.");
#pragma warning disable CS0162 // An iterator needs a yield to be one.
        yield break;
#pragma warning restore CS0162
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class IdempotentSendOnInMemory() : IdempotentSendTests(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class IdempotentSendOnPostgreSql(PostgresServer server) : IdempotentSendTests(StorageUnderTest.PostgreSql(server))
{
    [Fact]
    public async Task Send_SameKeyFromTwoHostsOnOnePostgreSql_RacingMakesOneRun_AndEachItemRunsOnce()
    {
        var recorder = new Recorder();
        await using var first = await StartAsync(Declare, services => services.AddSingleton(recorder));
        await using var second = await TestHost.StartAsync(await Storage.CreateAsync(), Declare, services => services.AddSingleton(recorder));
        var items = Enumerable.Range(0, 4).Select(i => $"t-{i}").ToArray();
        var options = new FanOutSendOptions { IdempotencyKey = "payment-9f2c" };

        var runIds = await AllAtOnceAsync(20, i => (i % 2 == 0 ? first : second).Client.SendManyAsync(Event, items, options));

        runIds.Distinct().Should().ContainSingle("the key is held in the shared storage, under its lock");
        await WaitCompletedAsync(first, runIds[0]);
        recorder.Calls.Select(c => c.Key).Should().BeEquivalentTo(items);
        JobCensus.ChildJobs(first.Storage).Should().HaveCount(items.Length);
        (await second.Client.SendAsync(Event, "t-9", options)).Should().Be(runIds[0], "a later send from either process finds the key");
    }
}
