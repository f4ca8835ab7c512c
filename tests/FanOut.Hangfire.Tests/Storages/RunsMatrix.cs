using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Storages;

/// <summary>Runs on every storage: exact counts, one completion, retry of the failed items, and how long the record is kept.</summary>
public abstract class RunsMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const int Items = 200;

    [Fact]
    public async Task Run_WithFailedItems_CountsExactly_AndCompletesOnce()
    {
        var (host, run) = await StartRunWithBrokenItemsAsync();
        await using (host)
        {
            var record = (await run.Runs.GetAsync(run.RunId))!;
            record.Status.Should().Be(FanOutRunStatus.CompletedWithFailures);
            record.DispatchedItems.Should().Be(Items);
            record.Handlers.Single(h => h.HandlerId == "notify")
                .Should().BeEquivalentTo(new { Dispatched = 200L, Succeeded = 196L, Failed = 4L, Deleted = 0L, InFlight = 0L });
            record.Handlers.Single(h => h.HandlerId == "audit")
                .Should().BeEquivalentTo(new { Dispatched = 200L, Succeeded = 200L, Failed = 0L, InFlight = 0L });
            (await run.Runs.GetFailedItemsAsync(run.RunId)).Select(f => f.ItemKey).Should().BeEquivalentTo(run.Broken.Keys.Keys);

            // Another completion would show up within a few completion checks.
            await Task.Delay(TimeSpan.FromSeconds(3));
            run.Completions.Completions.Should().ContainSingle().Which.FailedItems.Should().HaveCount(4);
            (await run.Runs.GetAsync(run.RunId))!.Completions.Should().Be(1);
        }
    }

    [Fact]
    public async Task RetryFailed_RequeuesExactlyTheFailedItems_AndTheRunCompletesAgain()
    {
        var (host, run) = await StartRunWithBrokenItemsAsync();
        await using (host)
        {
            var failed = run.Broken.Keys.Keys.ToList();
            run.Broken.Keys.Clear();

            (await run.Runs.RetryFailedAsync(run.RunId)).Should().Be(failed.Count);
            await Wait.UntilAsync(() => Task.FromResult(run.Completions.Completions.Count >= 2), Timeout, () => DescribeAsync("run to complete again", run));

            var record = (await run.Runs.GetAsync(run.RunId))!;
            record.Status.Should().Be(FanOutRunStatus.Completed);
            record.Completions.Should().Be(2);
            record.Handlers.Single(h => h.HandlerId == "notify")
                .Should().BeEquivalentTo(new { Dispatched = 200L, Succeeded = 200L, Failed = 0L, InFlight = 0L });
            // A broken item records nothing until it succeeds: each item of each handler is recorded once.
            run.Recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems("only the failed items ran again");
            run.Recorder.CountOf("notify").Should().Be(Items);
            run.Recorder.CountOf("audit").Should().Be(Items);
            (await run.Runs.GetFailedItemsAsync(run.RunId)).Should().BeEmpty();
            run.Completions.Completions.Last().IsRecompletion.Should().BeTrue();
        }
    }

    [Fact]
    public async Task Run_Record_IsKeptForTheRunRetention_OrTheStorageSaysForHowLong()
    {
        var (host, run) = await StartRunWithBrokenItemsAsync();
        await using (host)
        {
            using var connection = (JobStorageConnection)host.Storage.GetConnection();
            var ttl = connection.GetHashTtl(StorageKeys.Run(run.RunId));
            var capped = host.Services.GetRequiredService<FanOutWarnings>().Current.Where(w => w.Message.Contains("MaxExpirationTime")).ToList();
            if (ttl > TimeSpan.FromDays(6.9))
            {
                capped.Should().BeEmpty("the run record is kept for RunRetention, 7 days by default");
            }
            else
            {
                ttl.Should().BePositive();
                capped.Should().ContainSingle("a storage that keeps the record for less than RunRetention says so at start-up")
                    .Which.Message.Should().Contain(host.Storage.GetType().Name).And.Contain("RunRetention");
            }
        }
    }

    private async Task<(TestHost Host, RunUnderTest Run)> StartRunWithBrokenItemsAsync()
    {
        var run = new RunUnderTest();
        foreach (var id in run.Items.Ids.Where((_, i) => i % 50 == 7))
        {
            run.Broken.Keys[id] = true;
        }

        var host = await StartAsync(fanOut => fanOut
            .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
            .AddHandler<SometimesBrokenHandler>("notify", on: "tenant/due", o => o.RetryAttempts = 0)
            .AddHandler<RecordingHandler>("audit", on: "tenant/due")
            .AddCompletionHandler<CompletionRecorder>(of: "tenants"),
            services => services
                .AddSingleton(run.Recorder).AddSingleton(run.Items).AddSingleton(run.Broken).AddSingleton(run.Completions));
        try
        {
            run.Runs = host.Services.GetRequiredService<IFanOutRuns>();
            run.RunId = await host.Client.TriggerAsync("tenants");
            await Wait.UntilAsync(() => Task.FromResult(run.Completions.Completions.Count >= 1), Timeout, () => DescribeAsync("run to complete", run));
            return (host, run);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> DescribeAsync(string waitingFor, RunUnderTest run)
    {
        var record = await run.Runs.GetAsync(run.RunId);
        return $"{waitingFor}; " + (record is null
            ? "no run record"
            : $"status {record.Status}, items {record.DispatchedItems}, " +
              string.Join("; ", record.Handlers.Select(h => $"{h.HandlerId}: {h.Succeeded} ok, {h.Failed} failed, {h.InFlight} in flight")));
    }

    private sealed class RunUnderTest
    {
        public Recorder Recorder { get; } = new();

        public TestItems Items { get; } = TestItems.Numbered(RunsMatrix.Items);

        public BrokenItems Broken { get; } = new();

        public CompletionRecorder Completions { get; } = new();

        public IFanOutRuns Runs { get; set; } = null!;

        public string RunId { get; set; } = string.Empty;
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class RunsOnInMemory() : RunsMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class RunsOnPostgreSql(PostgresServer server) : RunsMatrix(StorageUnderTest.PostgreSql(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.RedisName), Collection(RedisCollection.Name)]
public sealed class RunsOnRedis(RedisServer server) : RunsMatrix(StorageUnderTest.Redis(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.SqliteName)]
public sealed class RunsOnSqlite() : RunsMatrix(StorageUnderTest.Sqlite());
