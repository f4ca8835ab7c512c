using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Storages;

/// <summary>Dispatch on every storage: each (item, handler) pair of a run gets one job, also when a dispatch is interrupted.</summary>
public abstract class DispatchMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    [Fact]
    public async Task Dispatch_CronFiringOfEightHundredJobsInFourChunks_CreatesEachItemAndHandlerJobOnce()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(400);
        await using var host = await StartAsync(fanOut =>
        {
            fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 100);
            fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<RecordingHandler>("notify", on: "tenant/due")
                .AddHandler<RecordingHandler>("audit", on: "tenant/due");
        },
        services => services.AddSingleton(recorder).AddSingleton(items),
        workers: 6);

        FireCron(host, "tenants");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 800, Timeout, () => $"{recorder.Calls.Count} of 800 calls");
        var jobs = JobCensus.ChildJobs(host.Storage);
        jobs.Should().HaveCount(800);
        jobs.Select(j => (j.HandlerId, j.ItemKey)).Should().OnlyHaveUniqueItems();
        jobs.Select(j => j.RunId).Distinct().Should().ContainSingle("one firing is one run");
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Dispatch_InterruptedBeforeAChunkCommits_ResumesWithoutLossOrDuplicates() =>
        await InterruptedDispatchScenario.RunAsync(await Storage.CreateAsync());
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class DispatchOnInMemory() : DispatchMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class DispatchOnPostgreSql(PostgresServer server) : DispatchMatrix(StorageUnderTest.PostgreSql(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.RedisName), Collection(RedisCollection.Name)]
public sealed class DispatchOnRedis(RedisServer server) : DispatchMatrix(StorageUnderTest.Redis(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.SqliteName)]
public sealed class DispatchOnSqlite() : DispatchMatrix(StorageUnderTest.Sqlite());
