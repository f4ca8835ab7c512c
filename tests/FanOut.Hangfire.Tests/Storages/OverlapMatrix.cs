using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Storages;

/// <summary>The overlap rule on every storage: the lease in storage keeps a second firing from dispatching alongside the first.</summary>
public abstract class OverlapMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    [Fact]
    public async Task Overlap_Skip_SkipsAFiringWhileTheFirstDispatchHoldsTheLease()
    {
        var gate = new Gate();
        var recorder = new Recorder();
        var items = TestItems.Numbered(4);
        await using var host = await StartAsync(fanOut => fanOut
            .AddCron<GatedSource>("slow", "0 0 1 1 *", sends: "tenant/due", o => o.Overlap = FanOutOverlap.Skip)
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(gate).AddSingleton(recorder).AddSingleton(items),
            workers: 6);

        FireCron(host, "slow");
        await Wait.UntilAsync(() => gate.Started == 1, Timeout, () => "the first dispatch to start");
        FireCron(host, "slow");
        await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 1, Timeout, () => "the second firing to finish");

        JobCensus.DispatchResults(host.Storage).Single().Should().Contain("Skipped");
        gate.Open.SetResult();
        await Wait.UntilAsync(() => recorder.Calls.Count >= 4, Timeout, () => $"{recorder.Calls.Count} of 4 calls");
        await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 2, Timeout, () => "the first dispatch to finish");
        gate.Started.Should().Be(1);
        gate.MaxRunning.Should().Be(1);
        recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().ContainSingle();
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class OverlapOnInMemory() : OverlapMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class OverlapOnPostgreSql(PostgresServer server) : OverlapMatrix(StorageUnderTest.PostgreSql(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.RedisName), Collection(RedisCollection.Name)]
public sealed class OverlapOnRedis(RedisServer server) : OverlapMatrix(StorageUnderTest.Redis(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.SqliteName)]
public sealed class OverlapOnSqlite() : OverlapMatrix(StorageUnderTest.Sqlite());
