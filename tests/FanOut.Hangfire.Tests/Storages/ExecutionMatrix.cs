using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Telemetry;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Storages;

/// <summary>Child jobs on every storage: retried on failure, on its handler's queue where the storage keeps it, with a warning where not.</summary>
public abstract class ExecutionMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    [Fact]
    public async Task Handler_FailingTransiently_SucceedsOnRetry_OnItsQueueOrWithAQueueWarning()
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
        // The queue as the storage hands the job to a worker; a monitoring API may leave it out (Hangfire.Redis.StackExchange's does).
        using var connection = host.Storage.GetConnection();
        var queues = jobs.Select(j => connection.GetJobData(j.JobId)?.Job?.Queue).ToList();
        var warnings = host.Services.GetRequiredService<FanOutWarnings>().Current.Select(w => w.Message).ToList();
        if (host.Storage.HasFeature(JobStorageFeatures.JobQueueProperty))
        {
            queues.Should().OnlyContain(q => q == "critical", "the storage keeps each job's queue, so retries stay on it");
            warnings.Should().NotContain(w => w.Contains("JobQueueProperty"));
        }
        else
        {
            queues.Should().OnlyContain(q => q == null, "the storage does not keep a job's queue, so retries run on 'default'");
            warnings.Should().ContainSingle(w => w.Contains("JobQueueProperty"))
                .Which.Should().Contain(host.Storage.GetType().Name).And.Contain("'default' queue");
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
