using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// <c>Overlap = BufferOne</c> and the misfire handling of a cron fan-out, on InMemory and PostgreSQL (design.md
/// invariants 3 and 17).
/// </summary>
public abstract class OverlapBufferTests(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    protected const string FanOutId = "slow";
    private const string Event = "tenant/due";

    [Fact]
    public async Task BufferOne_FiringsWhileADispatchRuns_OneWaitsAndDispatchesAfterIt_TheOthersAreSkipped()
    {
        var (gate, recorder) = (new Gate(), new Recorder());
        await using var host = await StartAsync(o => o.Overlap = FanOutOverlap.BufferOne, gate, recorder);

        await FireAndWaitForTheBufferAsync(host, host, gate);
        FireCron(host, FanOutId);
        FireCron(host, FanOutId);
        await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 2, Timeout, () => "the two firings after the buffered one to be skipped");

        JobCensus.DispatchResults(host.Storage).Should().AllSatisfy(r => r.Should().Contain("Skipped").And.Contain("BufferOne"));
        gate.Started.Should().Be(1, "the buffered firing waits for the lease, without reading its source");
        gate.Open.SetResult();
        await Wait.UntilAsync(() => recorder.Calls.Count >= 8, Timeout, () => $"{recorder.Calls.Count} of 8 calls");
        await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 4, Timeout, () => "both dispatches to finish");
        gate.Started.Should().Be(2);
        gate.MaxRunning.Should().Be(1, "dispatches of one fan-out never overlap");
        recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().HaveCount(2, "the first firing and the buffered one ran");
        var runs = await host.Services.GetRequiredService<IFanOutRuns>().ListAsync(FanOutId);
        runs.Count(r => r.Status == FanOutRunStatus.Skipped).Should().Be(2, "the skipped firings are recorded, as Skip does");
        BufferOf(host).Should().BeNull("the waiting place was taken back when the buffered firing got the lease");
    }

    [Fact]
    public async Task BufferOne_WaitingFiringThatTimesOut_LeavesItsPlace_SoTheNextFiringWaitsInstead()
    {
        var (gate, recorder) = (new Gate(), new Recorder());
        await using var host = await StartAsync(o =>
        {
            o.Overlap = FanOutOverlap.BufferOne;
            o.OverlapWaitTimeout = TimeSpan.FromSeconds(1);
        }, gate, recorder, dispatchRetries: 0);

        var buffered = await FireAndWaitForTheBufferAsync(host, host, gate);
        await Wait.UntilAsync(() => BufferOf(host) is null, Timeout, () => "the buffered firing to time out and leave its place");
        await Wait.UntilAsync(() => host.Storage.GetMonitoringApi().FailedCount() == 1, Timeout, () => "the timed-out firing to fail, as Wait's does");
        FireCron(host, FanOutId);
        await Wait.UntilAsync(() => BufferOf(host) is { } next && next != buffered, Timeout, () => "the next firing to take the free place");

        gate.Open.SetResult();
        await Wait.UntilAsync(() => recorder.Calls.Select(c => c.Context.RunId).Distinct().Count() == 2, Timeout, () => "the first run and the new buffered one");
        JobCensus.DispatchResults(host.Storage).Should().NotContain(r => r.Contains("Skipped"));
    }

    [Theory]
    [InlineData(FanOutMisfireHandling.Relaxed, 1)]
    [InlineData(FanOutMisfireHandling.Strict, 3)]
    [InlineData(FanOutMisfireHandling.Ignorable, 0)]
    public async Task Misfire_FiringsMissedWhileNoServerRan_FireAsTheOptionSays(FanOutMisfireHandling handling, int expectedRuns)
    {
        // A daily schedule twelve hours from now: no firing of its own falls within the test. Its last three occurrences
        // (two days ago, yesterday, and about twelve hours ago) were missed: the recurring job's next execution is
        // wound back to the first of them before the server starts, as if every server had been down since.
        var now = DateTime.UtcNow;
        var at = now.AddHours(12);
        var cron = $"{at.Minute} {at.Hour} * * *";
        var missedFrom = new DateTime(now.Year, now.Month, now.Day, at.Hour, at.Minute, 0, DateTimeKind.Utc);
        missedFrom = (missedFrom > now ? missedFrom.AddDays(-1) : missedFrom).AddDays(-2);
        var recorder = new Recorder();
        await using var host = await StartAsync(
            fanOut =>
            {
                fanOut
                    .AddCron<ListSource>(FanOutId, cron, sends: Event, o =>
                    {
                        o.MisfireHandling = handling;
                        o.Overlap = FanOutOverlap.Wait;
                    })
                    .AddHandler<RecordingHandler>("notify", on: Event);
                fanOut.Services.AddSingleton<IHostedService>(sp => new MissedFirings(sp.GetRequiredService<JobStorage>(), missedFrom));
            },
            services => services.AddSingleton(recorder).AddSingleton(TestItems.Numbered(2)));

        await Wait.UntilAsync(() => NextExecutionOf(host) > DateTime.UtcNow, Timeout, () => $"the scheduler to catch up (next execution {NextExecutionOf(host):O})");
        await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count >= expectedRuns, Timeout, () => $"{JobCensus.DispatchResults(host.Storage).Count} of {expectedRuns} dispatches");
        await Wait.UntilAsync(() => recorder.Calls.Count >= expectedRuns * 2, Timeout, () => $"{recorder.Calls.Count} of {expectedRuns * 2} calls");

        JobCensus.DispatchResults(host.Storage).Should().HaveCount(expectedRuns);
        (await host.Services.GetRequiredService<IFanOutRuns>().ListAsync(FanOutId)).Should().HaveCount(expectedRuns);
        host.Storage.GetMonitoringApi().EnqueuedCount("default").Should().Be(0, "no other firing is on its way");
        recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().HaveCount(expectedRuns);
    }

    protected async Task<TestHost> StartAsync(Action<CronFanOutOptions> overlap, Gate gate, Recorder recorder, int dispatchRetries = 10) =>
        await StartAsync(
            fanOut => Declare(fanOut, overlap, dispatchRetries),
            services => Services(services, gate, recorder),
            workers: 6);

    protected static void Declare(IFanOutBuilder fanOut, Action<CronFanOutOptions> overlap, int dispatchRetries = 10)
    {
        fanOut.Services.Configure<FanOutOptions>(o => o.DispatchRetryAttempts = dispatchRetries);
        fanOut
            .AddCron<GatedSource>(FanOutId, "0 0 1 1 *", sends: Event, overlap)
            .AddHandler<RecordingHandler>("notify", on: Event);
    }

    protected static void Services(IServiceCollection services, Gate gate, Recorder recorder) =>
        services.AddSingleton(gate).AddSingleton(recorder).AddSingleton(TestItems.Numbered(4));

    /// <summary>Fires once and waits for the dispatch to hold its source, then once more and waits for that firing to take the waiting place.</summary>
    protected static async Task<string> FireAndWaitForTheBufferAsync(TestHost first, TestHost second, Gate gate)
    {
        FireCron(first, FanOutId);
        await Wait.UntilAsync(() => gate.Started == 1, Timeout, () => "the first dispatch to start");
        FireCron(second, FanOutId);
        await Wait.UntilAsync(() => BufferOf(first) is not null, Timeout, () => "the second firing to wait in the buffer");
        return BufferOf(first)!;
    }

    protected static string? BufferOf(TestHost host)
    {
        using var connection = host.Storage.GetConnection();
        return connection.GetAllEntriesFromHash(StorageKeys.LeaseBuffer(FanOutId))?.GetValueOrDefault("Owner");
    }

    private static DateTime? NextExecutionOf(TestHost host)
    {
        using var connection = host.Storage.GetConnection();
        return connection.GetRecurringJobs().Single(j => j.Id == StorageKeys.RecurringJob(FanOutId)).NextExecution;
    }

    /// <summary>Winds the recurring job back after the library scheduled it and before the Hangfire server starts.</summary>
    private sealed class MissedFirings(JobStorage storage, DateTime missedFrom) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken)
        {
            var id = StorageKeys.RecurringJob(FanOutId);
            using var connection = storage.GetConnection();
            using var transaction = connection.CreateWriteTransaction();
            transaction.SetRangeInHash("recurring-job:" + id, new Dictionary<string, string>
            {
                ["NextExecution"] = JobHelper.SerializeDateTime(missedFrom),
                ["LastExecution"] = JobHelper.SerializeDateTime(missedFrom.AddDays(-1)),
            });
            transaction.AddToSet("recurring-jobs", id, JobHelper.ToTimestamp(missedFrom));
            transaction.Commit();
            return Task.CompletedTask;
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class OverlapBufferOnInMemory() : OverlapBufferTests(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class OverlapBufferOnPostgreSql(PostgresServer server) : OverlapBufferTests(StorageUnderTest.PostgreSql(server))
{
    [Fact]
    public async Task BufferOne_FiringsOnTwoServers_AtMostOneWaits_AndTheDispatchesNeverOverlap()
    {
        var (gate, recorder) = (new Gate(), new Recorder());
        await using var first = await StartAsync(o => o.Overlap = FanOutOverlap.BufferOne, gate, recorder);
        await using var second = await TestHost.StartAsync(
            await Storage.CreateAsync(), fanOut => Declare(fanOut, o => o.Overlap = FanOutOverlap.BufferOne), services => Services(services, gate, recorder), workers: 6);

        await FireAndWaitForTheBufferAsync(first, second, gate);
        FireCron(second, FanOutId);
        FireCron(first, FanOutId);
        FireCron(second, FanOutId);
        await Wait.UntilAsync(() => JobCensus.DispatchResults(first.Storage).Count == 3, Timeout, () => "the three later firings to be skipped");

        gate.Open.SetResult();
        await Wait.UntilAsync(() => JobCensus.DispatchResults(first.Storage).Count == 5, Timeout, () => "both dispatches to finish");
        await Wait.UntilAsync(() => recorder.Calls.Count >= 8, Timeout, () => $"{recorder.Calls.Count} of 8 calls");
        JobCensus.DispatchResults(first.Storage).Count(r => r.Contains("Skipped")).Should().Be(3);
        gate.MaxRunning.Should().Be(1);
        recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().HaveCount(2);
    }
}
