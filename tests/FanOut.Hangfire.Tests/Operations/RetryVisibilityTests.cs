using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// Retries you can see, on InMemory and PostgreSQL (design.md invariant 19): the jobs that failed an attempt and wait
/// for their next one are counted apart from those running or queued (and from those waiting for a slot), with when the
/// first of them is due, exactly through retries, deletes and retries running out.
/// </summary>
public abstract class RetryVisibilityMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Event = "account/due";
    private static readonly TimeSpan LongDelay = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Retrying_AHandlerThatAlwaysThrows_CountsEveryJobAsWaitingForItsRetry_WithTheNextAttemptsTime()
    {
        var recorder = new Recorder();
        await using var host = await StartFailingAsync(recorder, retries: 3, LongDelay);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var sentAt = DateTimeOffset.UtcNow;
        var runId = await host.Client.SendManyAsync(Event, Enumerable.Range(1, 5).Select(i => $"acct-{i}"));
        var run = await WaitForAsync(runs, runId, r => r.Retrying == 5, "every job to wait for its retry");

        var handler = run.Handlers.Single();
        (handler.Retrying, handler.InFlight, handler.Failed, handler.Waiting, handler.Succeeded).Should().Be((5, 5, 0, 0, 0));
        run.Status.Should().Be(FanOutRunStatus.Running);
        handler.NextRetryAt.Should().NotBeNull();
        handler.NextRetryAt!.Value.Should().BeOnOrAfter(sentAt + LongDelay - TimeSpan.FromSeconds(2), "the next attempt is the retry delay after a failure")
            .And.BeOnOrBefore(DateTimeOffset.UtcNow + LongDelay + TimeSpan.FromSeconds(2));
        run.NextRetryAt.Should().Be(handler.NextRetryAt);
        run.Retrying.Should().Be(5);

        // A job deleted while it waits for its retry leaves the count in the delete's transaction.
        var deleted = FirstScheduledJob(host);
        host.Services.GetRequiredService<IBackgroundJobClient>().Delete(deleted).Should().BeTrue();
        run = await WaitForAsync(runs, runId, r => r.Deleted == 1, "the deleted job to count as deleted");
        (run.Retrying, run.InFlight, run.Deleted).Should().Be((4, 4, 1));
    }

    [Fact]
    public async Task Retrying_UntilTheRetriesRunOut_EndsWithNoneWaiting_AndEveryJobFailed()
    {
        var recorder = new Recorder();
        await using var host = await StartFailingAsync(recorder, retries: 2, TimeSpan.FromSeconds(1));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var runId = await host.Client.SendManyAsync(Event, ["acct-1", "acct-2", "acct-3"]);
        var seenRetrying = 0L;
        var run = await WaitForAsync(
            runs,
            runId,
            r =>
            {
                seenRetrying = Math.Max(seenRetrying, r.Retrying);
                return r.Status == FanOutRunStatus.CompletedWithFailures;
            },
            "every job to fail with no retries left");

        recorder.Attempts.Values.Should().OnlyContain(a => a == 3, "each job ran its first attempt and two retries");
        (run.Failed, run.Retrying, run.InFlight).Should().Be((3, 0, 0));
        run.NextRetryAt.Should().BeNull();
        seenRetrying.Should().BeInRange(1, 3, "while the jobs waited (a second each) for their retries, the run said so, and never counted more jobs than it has");
    }

    /// <summary>A host whose one handler always throws, retrying <paramref name="retries"/> times after <paramref name="delay"/>.</summary>
    private Task<TestHost> StartFailingAsync(Recorder recorder, int retries, TimeSpan delay) =>
        StartAsync(
            fanOut => fanOut.AddHandler<AlwaysFailingHandler>("notify", on: Event, h =>
            {
                h.RetryAttempts = retries;
                h.RetryDelays.Add(delay);
            }),
            services => services.AddSingleton(recorder));

    private static async Task<FanOutRun> WaitForAsync(IFanOutRuns runs, string runId, Func<FanOutRun, bool> condition, string what)
    {
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = await runs.GetAsync(runId)) is { } found && condition(found),
            Timeout,
            () => $"run {runId} {what}: {(run is null ? "no record" : $"{run.Status}, {run.Retrying} retrying, {run.InFlight} in flight, {run.Failed} failed, {run.Deleted} deleted")}");
        return run!;
    }

    private static string FirstScheduledJob(TestHost host) =>
        host.Storage.GetMonitoringApi().ScheduledJobs(0, 10).First().Key;
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class RetryVisibilityOnInMemory() : RetryVisibilityMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class RetryVisibilityOnPostgreSql(PostgresServer server) : RetryVisibilityMatrix(StorageUnderTest.PostgreSql(server));
