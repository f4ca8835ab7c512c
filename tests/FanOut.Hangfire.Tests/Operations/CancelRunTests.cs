using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// Cancelling a run on InMemory and PostgreSQL: its dispatch stops, its jobs that have not started are deleted, its
/// running calls see their token fire (on another server too), nothing of another run is touched, and it ends Cancelled
/// with exact counts, its completion handler told (design.md invariant 15).
/// </summary>
public abstract class CancelRunTests(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Event = "tenant/due";
    private const string OtherEvent = "tenant/other";

    [Fact]
    public async Task Cancel_JobsWaitingForSlotsAndRunning_DeletesTheWaiting_FiresTheRunningTokens_AndEndsCancelledWithExactCounts()
    {
        var calls = new HeldCalls();
        await using var host = await StartAsync(
            fanOut => fanOut
                .AddHandler<HeldHandler>("notify", on: Event, h => h.ConcurrencyLimit = 2)
                .AddHandler<RecordingHandler>("audit", on: OtherEvent)
                .AddCompletionHandler<CompletionRecorder>(of: Event),
            services => services.AddSingleton(calls).AddSingleton<Recorder>().AddSingleton<CompletionRecorder>(),
            workers: 6);
        var runId = await host.Client.SendManyAsync(Event, TestItems.Numbered(60, "w-").Ids);
        await Wait.UntilAsync(() => calls.Running == 2, Timeout, () => $"{calls.Running} calls running");

        var result = await Runs(host).CancelAsync(runId);
        var other = await host.Client.SendManyAsync(OtherEvent, TestItems.Numbered(10, "o-").Ids);

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        result.JobsDeleted.Should().Be(0, "no job of the run was enqueued or scheduled: the two running held the slots");
        result.JobsWaiting.Should().Be(58, "the jobs waiting for a slot cannot start, and are deleted in the background");
        var run = await WaitForCompletionAsync(host, runId);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.Deleted.Should().Be(60, "the two running calls failed on their token and were deleted, not retried");
        run.Succeeded.Should().Be(0);
        run.InFlight.Should().Be(0);
        run.Handlers.Single().Waiting.Should().Be(0);
        calls.TokensFired.Should().Be(2);
        calls.Started.Should().HaveCount(2, "no job of the run started after the cancel");
        var completion = (await CompletionsAsync(host)).Should().ContainSingle().Subject;
        completion.IsCancelled.Should().BeTrue();
        completion.Run.Deleted.Should().Be(60);
        var otherRun = await WaitForCompletionAsync(host, other);
        otherRun.Status.Should().Be(FanOutRunStatus.Completed, "another run is not touched");
        otherRun.Succeeded.Should().Be(10);
        (await Runs(host).GetLimitsAsync()).Single().Running.Should().Be(0, "every slot was let go");
    }

    [Fact]
    public async Task Cancel_RunWithoutLimits_DeletesItsEnqueuedAndScheduledJobs_AndNoneIsLeftRunnable()
    {
        var calls = new HeldCalls { FailFirst = "f-" };
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<HeldHandler>("notify", on: Event, h =>
            {
                h.RetryAttempts = 3;
                h.RetryDelays.Add(TimeSpan.FromMinutes(5));
            }),
            services => services.AddSingleton(calls),
            workers: 4);
        var items = TestItems.Numbered(4, "f-").Ids.Concat(TestItems.Numbered(296, "u-").Ids).ToList();
        var runId = await host.Client.SendManyAsync(Event, items);
        await Wait.UntilAsync(
            () => calls.Running == 4 && Scheduled(host, runId) == 4,
            Timeout,
            () => $"{calls.Running} calls running, {Scheduled(host, runId)} retries scheduled");

        var result = await Runs(host).CancelAsync(runId);

        // The four calls' tokens fire at once, so their workers fetch enqueued jobs while the cancel walks the queue: each
        // job is deleted once, by the walk or by the filter as a worker fetches it; how many by which depends on the machine.
        result.JobsDeleted.Should().BeInRange(1, 296, "the 292 enqueued jobs and the 4 scheduled retries, less those the freed workers fetched first");
        var run = await WaitForCompletionAsync(host, runId);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        (run.Deleted + run.Succeeded + run.Failed).Should().Be(300);
        run.Deleted.Should().Be(300);
        calls.TokensFired.Should().Be(4);
        JobCensus.ChildJobs(host.Storage).Where(j => j.RunId == runId && j.State is "Enqueued" or "Scheduled" or "Processing")
            .Should().BeEmpty();
    }

    [Fact]
    public async Task Cancel_CronDispatchInProgress_StopsAtTheNextChunk_AndCreatesNothingMore()
    {
        var gate = new Gate();
        var calls = new HeldCalls();
        await using var host = await StartAsync(
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 10);
                fanOut
                    .AddCron<HalfGatedSource>("tenants", "0 3 * * *", sends: Event)
                    .AddHandler<HeldHandler>("notify", on: Event)
                    .AddCompletionHandler<CompletionRecorder>(of: "tenants");
            },
            services => services.AddSingleton(gate).AddSingleton(TestItems.Numbered(100, "c-")).AddSingleton(calls).AddSingleton<CompletionRecorder>(),
            workers: 4);
        var runId = await host.Client.TriggerAsync("tenants");
        await Wait.UntilAsync(() => gate.Started == 1 && Read(host, runId)?.DispatchedItems == 20, Timeout, () => Describe(Read(host, runId)));

        var result = await Runs(host).CancelAsync(runId);
        gate.Open.SetResult();

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        var run = await WaitForCompletionAsync(host, runId);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.DispatchedItems.Should().Be(20, "the dispatch stopped before its next chunk");
        run.DispatchFinishedAt.Should().NotBeNull();
        (run.Deleted + run.Succeeded + run.Failed).Should().Be(20);
        JobCensus.ChildJobs(host.Storage).Where(j => j.RunId == runId).Should().HaveCount(20, "nothing more was created");
        (await CompletionsAsync(host)).Should().ContainSingle().Which.IsCancelled.Should().BeTrue();
    }

    [Fact]
    public async Task Cancel_SendInProgress_StopsTheSendAtTheNextChunk_AndTheSendSaysWhatItSent()
    {
        var calls = new HeldCalls();
        await using var host = await StartAsync(
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 10);
                fanOut.AddHandler<HeldHandler>("notify", on: Event);
            },
            services => services.AddSingleton(calls),
            workers: 2);
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var send = host.Client.SendManyAsync(Event, HeldStream(30, halfway.Task));
        var runs = Runs(host);
        FanOutRun? sending = null;
        await Wait.UntilAsync(
            async () => (sending = (await runs.ListAsync(Event)).SingleOrDefault()) is { DispatchedItems: 20 },
            Timeout,
            () => Describe(sending));

        var result = await runs.CancelAsync(sending!.RunId);
        halfway.SetResult();

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        var thrown = await send.Invoking(s => s).Should().ThrowAsync<FanOutSendException>();
        thrown.Which.RunId.Should().Be(sending.RunId);
        thrown.Which.ItemsSent.Should().Be(20);
        var run = await WaitForCompletionAsync(host, sending.RunId);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.DispatchedItems.Should().Be(20);
        (run.Deleted + run.Succeeded + run.Failed).Should().Be(20);
    }

    [Fact]
    public async Task Cancel_FromAProcessWithoutAServer_FiresTheTokenOfTheCallOnTheServerThatRunsIt_AndARequeueIsDeletedNotRun()
    {
        var calls = new HeldCalls();
        var storage = await Storage.CreateAsync();
        void Declare(IFanOutBuilder fanOut) => fanOut.AddHandler<HeldHandler>("notify", on: Event, h => h.RetryAttempts = 0);
        await using var worker = await TestHost.StartAsync(storage, Declare, services => services.AddSingleton(calls), workers: 2);
        await using var other = await TestHost.StartAsync(storage, Declare, services => services.AddSingleton(new HeldCalls()), server: false);
        var runId = await worker.Client.SendManyAsync(Event, ["a-1", "a-2", "a-3"]);
        await Wait.UntilAsync(() => calls.Running == 2, Timeout, () => $"{calls.Running} calls running");

        var result = await Runs(other).CancelAsync(runId);

        result.JobsDeleted.Should().Be(1, "one job was enqueued behind the two running");
        await Wait.UntilAsync(() => calls.TokensFired == 2, Timeout, () => $"{calls.TokensFired} tokens fired");
        var run = await WaitForCompletionAsync(other, runId);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.Deleted.Should().Be(3);

        var deleted = JobCensus.ChildJobs(storage).First(j => j.RunId == runId && j.State == "Deleted").JobId;
        worker.Services.GetRequiredService<IBackgroundJobClient>().Requeue(deleted);
        await Wait.UntilAsync(() => JobCensus.ChildJobs(storage).Single(j => j.JobId == deleted).State == "Deleted", Timeout, () => "the requeued job to be deleted");
        calls.Started.Should().HaveCount(2, "a job of a cancelled run that is requeued is deleted instead of running");
    }

    [Fact]
    public async Task Cancel_Again_OrACompletedRun_OrAnUnknownOne_ChangesNothing_AndAPendingTriggerNeverDispatches()
    {
        var recorder = new Recorder();
        await using var host = await StartAsync(
            fanOut => fanOut
                .AddCron<ListSource>("nightly", "0 3 * * *", sends: OtherEvent, o => o.Queue = "nobody-listens")
                .AddHandler<RecordingHandler>("audit", on: OtherEvent),
            services => services.AddSingleton(recorder).AddSingleton(TestItems.Numbered(5, "n-")));
        var completed = await host.Client.SendManyAsync(OtherEvent, ["x-1", "x-2"]);
        await WaitForCompletionAsync(host, completed);
        var runs = Runs(host);

        (await runs.CancelAsync(completed)).Outcome.Should().Be(FanOutCancelOutcome.AlreadyCompleted);
        (await runs.GetAsync(completed))!.Status.Should().Be(FanOutRunStatus.Completed);
        (await runs.CancelAsync("no-such-run")).Outcome.Should().Be(FanOutCancelOutcome.NotFound);
        await runs.Invoking(r => r.CancelAsync(" ")).Should().ThrowAsync<ArgumentException>().Where(e => e.ParamName == "runId");

        var pending = await host.Client.TriggerAsync("nightly");
        var first = await runs.CancelAsync(pending);
        var again = await runs.CancelAsync(pending);

        first.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        again.Outcome.Should().Be(FanOutCancelOutcome.AlreadyCancelled);
        again.JobsDeleted.Should().Be(0);
        var run = await WaitForCompletionAsync(host, pending);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.DispatchedItems.Should().Be(0);
        run.Completions.Should().Be(1);
        recorder.Calls.Should().HaveCount(2, "only the completed send's items ran");
    }

    [Fact]
    public async Task Cancel_RunOfAPausedHandler_DeletesItsPausedJobs_AndEndsCancelledWithoutAResume()
    {
        var recorder = new Recorder();
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<RecordingHandler>("audit", on: OtherEvent),
            services => services.AddSingleton(recorder));
        var control = host.Services.GetRequiredService<IFanOutControl>();
        await control.PauseHandlerAsync("audit");
        var runId = await host.Client.SendManyAsync(OtherEvent, TestItems.Numbered(12, "p-").Ids);
        await Wait.UntilAsync(() => Read(host, runId) is { } r && r.Handlers[0].Paused == 12, Timeout, () => Describe(Read(host, runId)));

        var result = await Runs(host).CancelAsync(runId);

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        var run = await WaitForCompletionAsync(host, runId);
        run.Status.Should().Be(FanOutRunStatus.Cancelled, "the paused jobs are deleted without waiting for the resume");
        run.Deleted.Should().Be(12);
        run.Handlers[0].Paused.Should().Be(0);
        await control.ResumeHandlerAsync("audit");
        recorder.Calls.Should().BeEmpty("every job of the cancelled run was deleted while its handler was paused");
    }

    /// <summary>The completions told, once the completion job (enqueued as the run completed) has run.</summary>
    internal static async Task<IReadOnlyCollection<FanOutCompletion>> CompletionsAsync(TestHost host)
    {
        var recorder = host.Services.GetRequiredService<CompletionRecorder>();
        await Wait.UntilAsync(() => recorder.Completions.Count > 0, Timeout, () => "the completion handler to be told");
        return recorder.Completions;
    }

    internal static IFanOutRuns Runs(TestHost host) => host.Services.GetRequiredService<IFanOutRuns>();

    internal static FanOutRun? Read(TestHost host, string runId) => Runs(host).GetAsync(runId).GetAwaiter().GetResult();

    private static long Scheduled(TestHost host, string runId) =>
        JobCensus.ChildJobs(host.Storage).Count(j => j.RunId == runId && j.State == "Scheduled");

    internal static async Task<FanOutRun> WaitForCompletionAsync(TestHost host, string runId)
    {
        FanOutRun? run = null;
        await Wait.UntilAsync(() => (run = Read(host, runId)) is { CompletedAt: not null }, Timeout, () => Describe(run));
        return run!;
    }

    internal static string Describe(FanOutRun? run) => run is null
        ? "no run"
        : $"{run.Status}, {run.DispatchedItems} items, {run.Succeeded} succeeded, {run.Failed} failed, {run.Deleted} deleted, {run.InFlight} in flight, completed {run.CompletedAt}";

    private static async IAsyncEnumerable<string> HeldStream(int count, Task halfway, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            if (i == 20)
            {
                await halfway.WaitAsync(cancellationToken);
            }

            yield return $"s-{i:D3}";
        }
    }

    /// <summary>Yields its first twenty items, then waits for the gate before the rest.</summary>
    public sealed class HalfGatedSource(Gate gate, TestItems items) : IFanOutSource<string>
    {
        public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (var i = 0; i < items.Ids.Count; i++)
            {
                if (i == 20)
                {
                    using var _ = gate.Enter();
                    await gate.Open.Task.WaitAsync(cancellationToken);
                }

                yield return items.Ids[i];
            }
        }
    }

    /// <summary>What the held handler's calls did: each runs until its token fires (items with <see cref="FailFirst"/> fail at once).</summary>
    public sealed class HeldCalls
    {
        private int _running;
        private int _tokensFired;

        public string? FailFirst { get; init; }

        public ConcurrentDictionary<string, int> Started { get; } = new(StringComparer.Ordinal);

        public int Running => Volatile.Read(ref _running);

        public int TokensFired => Volatile.Read(ref _tokensFired);

        internal async Task HoldAsync(string item, CancellationToken cancellationToken)
        {
            Started.AddOrUpdate(item, 1, (_, n) => n + 1);
            if (FailFirst is { } prefix && item.StartsWith(prefix, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{item} fails, to be retried later.");
            }

            Interlocked.Increment(ref _running);
            try
            {
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _tokensFired);
                throw;
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }

    public sealed class HeldHandler(HeldCalls calls) : IFanOutHandler<string>
    {
        public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) => calls.HoldAsync(item, cancellationToken);
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class CancelRunOnInMemory() : CancelRunTests(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class CancelRunOnPostgreSql(PostgresServer server) : CancelRunTests(StorageUnderTest.PostgreSql(server));
