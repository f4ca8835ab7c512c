using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Storages;

/// <summary>Child jobs on every storage: retried on failure, each retry on its handler's queue.</summary>
public abstract class ExecutionMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    [Fact]
    public async Task Handler_FailingTransiently_SucceedsOnRetry_OnItsHandlersQueue()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(30);
        await using var host = await StartAsync(fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: "tenant/due")
            .AddHandler<FlakyHandler>("flaky", on: "tenant/due", o =>
            {
                o.Queue = "critical";
                o.RetryAttempts = 2;
                o.RetryDelays.Add(TimeSpan.Zero);
            }),
            services => services.AddSingleton(recorder).AddSingleton(items));

        await host.Client.TriggerAsync("nightly");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 30, Timeout, () => $"{recorder.Calls.Count} of 30 calls");
        var retried = recorder.Calls.Where(c => c.Context.Attempt == 2).Select(c => c.Key).ToHashSet();
        retried.Should().HaveCount(10, "items 0, 3, ..., 27 fail their first attempt");
        recorder.Calls.Select(c => c.Key).Should().OnlyHaveUniqueItems();
        await Wait.UntilAsync(
            () => JobCensus.ChildJobs(host.Storage).Count(j => j.State == "Succeeded") == 30, Timeout, () => "all child jobs to succeed");
        var jobs = JobCensus.ChildJobs(host.Storage);
        jobs.Should().HaveCount(30).And.OnlyContain(j => j.State == "Succeeded");
        foreach (var job in jobs.Where(j => retried.Contains(j.ItemKey)))
        {
            var queues = JobCensus.History(host.Storage, job.JobId)
                .Where(s => s.StateName == "Enqueued")
                .Select(s => s.Data.TryGetValue("Queue", out var queue) ? queue : null);
            queues.Should().HaveCount(2).And.AllBe("critical", "the retry of {0} keeps its handler's queue", job.ItemKey);
        }
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class ExecutionOnInMemory() : ExecutionMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class ExecutionOnPostgreSql(PostgresServer server) : ExecutionMatrix(StorageUnderTest.PostgreSql(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.RedisName), Collection(RedisCollection.Name)]
public sealed class ExecutionOnRedis(RedisServer server) : ExecutionMatrix(StorageUnderTest.Redis(server));

[Trait(StorageUnderTest.Trait, StorageUnderTest.SqliteName)]
public sealed class ExecutionOnSqlite() : ExecutionMatrix(StorageUnderTest.Sqlite());
