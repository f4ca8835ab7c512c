using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Hosting;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// A cancel racing a second dispatch of the same run, on InMemory and PostgreSQL: Hangfire running the dispatch job
/// again while it dispatches, and a resume of a run whose dispatcher stopped renewing its lease while that dispatcher is
/// still alive. Everything is read from storage once both dispatchers stopped: nothing of the run is left to run or
/// wait, no chunk committed after the cancel returned, and the run ends Cancelled with exact counts, told once
/// (design.md invariant 15).
/// </summary>
public abstract class CancelRaceTests(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Event = "tenant/due";
    private const string FanOutId = "tenants";
    private static readonly string[] Ended = ["Deleted", "Succeeded", "Failed"];

    [Fact]
    public async Task Cancel_WhileTheDispatchJobRunsAgain_BothExecutionsStop_NothingIsCreatedAfterIt_AndTheRunEndsExactlyCounted()
    {
        var gate = new Gate();
        var calls = new CancelRunTests.HeldCalls();
        await using var host = await StartAsync(
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 10);
                fanOut
                    .AddCron<CancelRunTests.HalfGatedSource>(FanOutId, "0 3 * * *", sends: Event)
                    .AddHandler<CancelRunTests.HeldHandler>("notify", on: Event, h => h.ConcurrencyLimit = 2)
                    .AddCompletionHandler<CompletionRecorder>(of: FanOutId);
            },
            services => services.AddSingleton(gate).AddSingleton(TestItems.Numbered(100, "c-")).AddSingleton(calls).AddSingleton<CompletionRecorder>(),
            workers: 6);
        var runId = await host.Client.TriggerAsync(FanOutId);
        await Wait.UntilAsync(
            () => gate.Started == 1 && CancelRunTests.Read(host, runId)?.DispatchedItems == 20 && calls.Running == 2,
            Timeout,
            () => $"{CancelRunTests.Describe(CancelRunTests.Read(host, runId))}, {calls.Running} calls running");
        var dispatchJob = DispatchJobOf(host.Storage);
        var statesBefore = JobCensus.History(host.Storage, dispatchJob).Length;

        // Hangfire runs the job again, as after a requeue or its invisibility timeout: the new execution waits for the
        // lease the first one holds, or takes it once Hangfire has aborted the first.
        host.Services.GetRequiredService<IBackgroundJobClient>().Requeue(dispatchJob).Should().BeTrue();
        await Wait.UntilAsync(
            () => JobCensus.History(host.Storage, dispatchJob) is var history && history.Length >= statesBefore + 2 && history[0].StateName == "Processing",
            Timeout,
            () => "a second execution of the dispatch job to start");

        var result = await CancelRunTests.Runs(host).CancelAsync(runId);
        var atCancel = JobsOf(host.Storage, runId).Count;
        var startedAtCancel = calls.Started.Keys.Order(StringComparer.Ordinal).ToList();
        gate.Open.SetResult();

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        await Wait.UntilAsync(
            () => JobCensus.StateOf(host.Storage, dispatchJob) is "Succeeded" or "Failed" or "Deleted" && LeaseIsFree(host.Storage),
            Timeout,
            () => $"both executions of the dispatch to stop: its job is {JobCensus.StateOf(host.Storage, dispatchJob)}");
        var run = await CancelRunTests.WaitForCompletionAsync(host, runId);
        await VerifyNothingMoreAsync(host.Storage, runId, atCancel);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.DispatchedItems.Should().Be(20, "neither execution dispatched a chunk after the cancel");
        (run.Deleted + run.Succeeded + run.Failed).Should().Be(atCancel);
        run.Deleted.Should().Be(20, "the two running calls failed on their token and were deleted, the others never started");
        calls.Started.Keys.Order(StringComparer.Ordinal).Should().Equal(startedAtCancel, "no call started after the cancel");
        calls.TokensFired.Should().Be(2);
        var completion = (await CancelRunTests.CompletionsAsync(host)).Should().ContainSingle().Subject;
        completion.IsCancelled.Should().BeTrue();
        completion.Run.Deleted.Should().Be(20);
    }

    [Fact]
    public async Task Cancel_WhileAResumeCommitsAChunk_AndTheInterruptedDispatcherLives_TheChunkCommitsBeforeTheCancelReturnsOrNever()
    {
        var storage = await Storage.CreateAsync();
        var (recorder, items, reads) = (new Recorder(), TestItems.Numbered(FrozenDispatcher.Items), new SourceReads());
        using var release = new ManualResetEventSlim();
        var committing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var liveHooks = new DispatchHooks
        {
            ChunkCommitting = (_, next) =>
            {
                // The resume's second chunk: checked for a cancel already, about to commit.
                if (next.Items == FrozenDispatcher.Checkpoint + (2 * FrozenDispatcher.ChunkSize))
                {
                    committing.TrySetResult();
                    release.Wait(Timeout);
                }
            },
        };
        FrozenDispatcher? frozen = await FrozenDispatcher.StartAsync(storage, recorder, items, reads);
        var runId = frozen.RunId;
        TestHost? live = null;
        try
        {
            live = await TestHost.StartAsync(
                storage,
                fanOut =>
                {
                    FrozenDispatcher.Declare(fanOut);
                    fanOut.AddCompletionHandler<CompletionRecorder>(of: FrozenDispatcher.FanOutId);
                },
                services => FrozenDispatcher.AddShared(services, recorder, items, reads)
                    .AddSingleton(new DispatchRecoverySettings { Interval = TimeSpan.FromMilliseconds(200) })
                    .AddSingleton(liveHooks)
                    .AddSingleton<CompletionRecorder>());
            await committing.Task.WaitAsync(Timeout);

            // The cancel may wait for the chunk to commit, or return at once: given a few seconds to return, a cancel
            // that does not wait is caught committing nothing more while the chunk is let go only after.
            var cancelling = Task.Run(() => CancelRunTests.Runs(live).CancelAsync(runId));
            await Task.WhenAny(cancelling, Task.Delay(TimeSpan.FromSeconds(3)));
            int? countedBeforeRelease = cancelling.IsCompleted ? JobsOf(storage, runId).Count : null;
            release.Set();
            var result = await cancelling.WaitAsync(Timeout);
            var atCancel = countedBeforeRelease ?? JobsOf(storage, runId).Count;
            var callsAtCancel = recorder.Calls.Count;
            var processingAtCancel = JobsOf(storage, runId).Count(j => j.State == "Processing");

            // The interrupted dispatcher comes back to its chunk, which never commits.
            await frozen.DisposeAsync();
            frozen = null;

            result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
            atCancel.Should().BeOneOf(
                [FrozenDispatcher.Checkpoint + FrozenDispatcher.ChunkSize, FrozenDispatcher.Checkpoint + (2 * FrozenDispatcher.ChunkSize)],
                "the chunk being committed as the cancel came either committed before the cancel returned or never does");
            await Wait.UntilAsync(() => LeaseIsFree(storage) && CancelRunTests.Read(live, runId) is { DispatchFinishedAt: not null }, Timeout, () => "the resume to stop");
            var run = await CancelRunTests.WaitForCompletionAsync(live, runId);
            await VerifyNothingMoreAsync(storage, runId, atCancel);
            run.Status.Should().Be(FanOutRunStatus.Cancelled);
            run.DispatchedItems.Should().Be(atCancel);
            (run.Deleted + run.Succeeded + run.Failed).Should().Be(atCancel);
            run.Succeeded.Should().Be(recorder.Calls.Count, "each call that ran succeeded, and no job ran twice");
            recorder.Calls.Select(c => c.Key).Should().OnlyHaveUniqueItems();
            recorder.Calls.Count.Should().BeLessThanOrEqualTo(callsAtCancel + processingAtCancel, "no call started after the cancel returned but those already fetched");
            var completion = (await CancelRunTests.CompletionsAsync(live)).Should().ContainSingle().Subject;
            completion.IsCancelled.Should().BeTrue();
        }
        finally
        {
            release.Set();
            if (frozen is not null)
            {
                await frozen.DisposeAsync();
            }

            if (live is not null)
            {
                await live.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Once both dispatchers stopped: no job of the run is left to run or wait, and none more is created while the
    /// watch of every process looks again (the count is watched for a few of its periods).
    /// </summary>
    private static async Task VerifyNothingMoreAsync(JobStorage storage, string runId, int atCancel)
    {
        await Wait.UntilAsync(
            () => JobsOf(storage, runId).All(j => Ended.Contains(j.State)),
            Timeout,
            () => string.Join(", ", JobsOf(storage, runId).GroupBy(j => j.State).Select(g => $"{g.Count()} {g.Key}")));
        var watchUntil = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < watchUntil)
        {
            var jobs = JobsOf(storage, runId);
            jobs.Should().HaveCount(atCancel, "no chunk committed after the cancel returned");
            jobs.Should().OnlyContain(j => Ended.Contains(j.State), "nothing of the run is enqueued, scheduled, processing or waiting");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// The run's jobs, each with its state as stored: those of Hangfire's state lists, and those waiting for a slot or a
    /// resume, which no list of Hangfire's holds (found in the run's waiting sets, their state read from the job).
    /// </summary>
    private static List<ChildJob> JobsOf(JobStorage storage, string runId)
    {
        var jobs = JobCensus.ChildJobs(storage).Where(j => j.RunId == runId).ToList();
        var listed = jobs.Select(j => j.JobId).ToHashSet(StringComparer.Ordinal);
        using var connection = storage.GetConnection();
        var waiting = new[] { RunOutcomesAttribute.Waiting, RunOutcomesAttribute.Paused }
            .SelectMany(outcome => connection.GetAllItemsFromSet(StorageKeys.Outcome(runId, "notify", outcome)) ?? [])
            .Select(member => OutcomeMembers.Parse(member).JobId)
            .Where(listed.Add);
        foreach (var jobId in waiting)
        {
            jobs.Add(new ChildJob(jobId, connection.GetJobData(jobId)?.State ?? "none", "notify", runId, "?", null));
        }

        return jobs;
    }

    private static string DispatchJobOf(JobStorage storage) =>
        storage.GetMonitoringApi().ProcessingJobs(0, 100).Single(j => j.Value.Job?.Type == typeof(FanOutDispatchJob)).Key;

    private static bool LeaseIsFree(JobStorage storage, string fanOutId = FanOutId)
    {
        using var connection = storage.GetConnection();
        return DispatchLease.Read(connection, fanOutId) is null;
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class CancelRaceOnInMemory() : CancelRaceTests(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class CancelRaceOnPostgreSql(PostgresServer server) : CancelRaceTests(StorageUnderTest.PostgreSql(server));
