using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FanOut.Hangfire.Tests.Hosting;

/// <summary>
/// A cron run whose dispatcher stopped (its process died) resumes from its checkpoint once its lease runs out, asked for
/// by a process that declares the fan-out, without waiting for the storage to hand the dead process's job out again; and
/// is still dispatched exactly once, when that old job runs again too.
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class DispatchRecoveryTests
{
    private const string Nightly = "nightly";
    private const string Event = "tenant/due";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly DispatchRecoverySettings Quick = new() { Interval = TimeSpan.FromMilliseconds(200) };
    private static readonly TimeSpan Lease = new FanOutOptions().DispatchLeaseDuration;

    [Fact]
    public async Task InterruptedRun_ItsLeaseRanOut_IsResumedFromItsCheckpoint_EachItemsJobOnce_AndTheOldJobRunAgainFindsItDispatched()
    {
        var storage = TestHost.InMemory();
        var (recorder, items, reads) = (new Recorder(), TestItems.Numbered(FrozenDispatcher.Items), new SourceReads());
        var frozen = await FrozenDispatcher.StartAsync(storage, recorder, items, reads);
        TestHost? live = null;
        try
        {
            Record(storage, frozen.RunId).DispatchedItems.Should().Be(FrozenDispatcher.Checkpoint);
            live = await StartLiveAsync(storage, recorder, items, reads);

            await Wait.UntilAsync(() => Record(storage, frozen.RunId).Status == RunRecord.Dispatched, Timeout, () => $"run {frozen.RunId} to be resumed and dispatched: {Record(storage, frozen.RunId)}");
            await Wait.UntilAsync(() => recorder.Calls.Count >= FrozenDispatcher.Items, Timeout, () => $"{recorder.Calls.Count} of {FrozenDispatcher.Items} calls");

            VerifyEachItemOnce(storage, recorder, items, frozen.RunId);
            var record = Record(storage, frozen.RunId);
            record.ResumeRequestedAt.Should().NotBeNull("the live process asked for the resume");
            record.DispatchedJobs.Should().Be(FrozenDispatcher.Items);
            reads.Contexts.Should().HaveCount(2, "the frozen dispatch read the source, then the resume did");
            reads.Contexts.Select(c => (c.RunId, c.TriggeredAt)).Distinct().Should().ContainSingle(
                "a resume dispatches the same run, and its source sees when the run was triggered, not when the resume was asked for");
            var resume = JobCensus.DispatchResults(storage).Should().ContainSingle().Subject;
            resume.Should().Contain($"Run {frozen.RunId}: dispatched {FrozenDispatcher.Items} items");
            ProcessingDispatchJobs(storage).Should().Equal([frozen.JobId], "the frozen process's job is still Processing, as a dead process's is until the storage hands it out again");

            // The storage hands the old job out at last (Hangfire.PostgreSql: after its invisibility timeout).
            live.Services.GetRequiredService<IBackgroundJobClient>().Requeue(frozen.JobId).Should().BeTrue();

            await Wait.UntilAsync(() => JobCensus.DispatchResults(storage).Count == 2, Timeout, () => "the old job to run again and succeed");
            JobCensus.DispatchResults(storage).Should().ContainSingle(r => r.Contains("already dispatched", StringComparison.Ordinal))
                .Which.Should().Contain($"{FrozenDispatcher.Items} items as {FrozenDispatcher.Items} jobs");
            reads.Contexts.Should().HaveCount(2, "the old job found the run dispatched without reading the source");
            VerifyEachItemOnce(storage, recorder, items, frozen.RunId);
        }
        finally
        {
            await frozen.DisposeAsync();
            if (live is not null)
            {
                await live.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task OldJob_RunAgainWhileTheResumeDispatches_WaitsForTheLease_AndFindsTheRunDispatched()
    {
        var storage = TestHost.InMemory();
        var (recorder, items, reads) = (new Recorder(), TestItems.Numbered(FrozenDispatcher.Items), new SourceReads());
        using var release = new ManualResetEventSlim();
        var resumeHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        var liveHooks = new DispatchHooks
        {
            ChunkCommitting = (_, next) =>
            {
                if (next.Items == FrozenDispatcher.Checkpoint + (2 * FrozenDispatcher.ChunkSize) && Interlocked.Increment(ref held) == 1)
                {
                    resumeHeld.TrySetResult();
                    release.Wait(Timeout);
                }
            },
        };
        var frozen = await FrozenDispatcher.StartAsync(storage, recorder, items, reads);
        TestHost? live = null;
        try
        {
            live = await StartLiveAsync(storage, recorder, items, reads, services => services.AddSingleton(liveHooks));
            await resumeHeld.Task.WaitAsync(Timeout);
            var resumeOwner = LeaseOf(storage).Owner;
            DispatchLease.RunOf(resumeOwner).Should().Be(frozen.RunId);
            var statesBefore = JobCensus.History(storage, frozen.JobId).Length;

            live.Services.GetRequiredService<IBackgroundJobClient>().Requeue(frozen.JobId).Should().BeTrue();

            await Wait.UntilAsync(
                () => JobCensus.History(storage, frozen.JobId) is var history && history.Length >= statesBefore + 2 && history[0].StateName == "Processing",
                Timeout,
                () => "a worker of the live process to run the old job again");

            // It tries for the lease every half second meanwhile; the resume keeps it.
            var watchUntil = DateTime.UtcNow + TimeSpan.FromSeconds(2);
            while (DateTime.UtcNow < watchUntil)
            {
                LeaseOf(storage).Owner.Should().Be(resumeOwner, "an execution waits for a live lease, whatever run it belongs to");
                await Task.Delay(100);
            }

            reads.Contexts.Should().HaveCount(2, "the old job has not read the source while it waited");
            release.Set();

            await Wait.UntilAsync(() => JobCensus.DispatchResults(storage).Count == 2, Timeout, () => "the resume and the old job to succeed");
            var results = JobCensus.DispatchResults(storage);
            results.Should().ContainSingle(r => r.Contains($"Run {frozen.RunId}: dispatched {FrozenDispatcher.Items} items", StringComparison.Ordinal));
            results.Should().ContainSingle(r => r.Contains("already dispatched", StringComparison.Ordinal), "the old job took the lease once the resume let it go, and found the run dispatched");
            await Wait.UntilAsync(() => recorder.Calls.Count >= FrozenDispatcher.Items, Timeout, () => $"{recorder.Calls.Count} of {FrozenDispatcher.Items} calls");
            VerifyEachItemOnce(storage, recorder, items, frozen.RunId);
            reads.Contexts.Should().HaveCount(2);
        }
        finally
        {
            release.Set();
            await frozen.DisposeAsync();
            if (live is not null)
            {
                await live.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Dispatch_SourceTakingMinutesBeforeItsFirstItem_KeepsItsLease_AndIsNeverTakenForInterrupted()
    {
        // Twenty times the real pace: three minutes of the process's life, six lease periods, pass in nine seconds.
        var clock = new FastClock(20);
        var gate = new Gate();
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut
                .AddCron<GatedSource>(Nightly, "0 0 1 1 *", sends: Event)
                .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton<TimeProvider>(clock).AddSingleton(gate).AddSingleton(recorder).AddSingleton(TestItems.Numbered(4)));
        var runId = await host.Client.TriggerAsync(Nightly);
        await Wait.UntilAsync(() => gate.Started == 1, Timeout, () => "the dispatch to open its source");
        var owner = LeaseOf(host.Storage, Nightly).Owner;

        var renewals = new HashSet<DateTimeOffset>();
        var until = clock.GetUtcNow() + TimeSpan.FromMinutes(3);
        while (clock.GetUtcNow() < until)
        {
            var lease = LeaseOf(host.Storage, Nightly);
            lease.Owner.Should().Be(owner, "no other execution took the lease");
            lease.ExpiresAt.Should().BeAfter(clock.GetUtcNow(), "the dispatch keeps renewing its lease while its source has not yielded yet");
            renewals.Add(lease.ExpiresAt);
            await Task.Delay(50);
        }

        renewals.Count.Should().BeGreaterThanOrEqualTo(15, "the lease is renewed every third of its duration (30 s) for three minutes");
        Record(host.Storage, runId).ResumeRequestedAt.Should().BeNull("a dispatch that renews its lease is never taken for interrupted");
        gate.Open.SetResult();
        await Wait.UntilAsync(() => recorder.Calls.Count >= 4, Timeout, () => $"{recorder.Calls.Count} of 4 calls");
        await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 1, Timeout, () => "the dispatch to succeed");
        JobCensus.DispatchResults(host.Storage).Should().ContainSingle().Which.Should().Contain($"Run {runId}: dispatched 4 items");
    }

    [Fact]
    public async Task Check_TwoProcessesLookAtOnce_AskForOneResume_ThenOnceMoreOnlyIfItHasNotStartedWithinALeasePeriod()
    {
        var storage = TestHost.InMemory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var first = Process(storage, clock, DeclareNightly);
        using var second = Process(storage, clock, DeclareNightly);
        var runId = LeaveDispatching(first, Nightly, leaseExpired: true, clock);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).GetRequiredService<DispatchRecovery>().Check())));

        ResumeJobs(storage, runId).Should().Be(1, "one process asks, under the run's lock; the other finds it asked");
        Record(storage, runId).ResumeRequestedAt.Should().Be(clock.GetUtcNow());
        clock.Advance(Lease - TimeSpan.FromSeconds(1));
        first.GetRequiredService<DispatchRecovery>().Check();
        second.GetRequiredService<DispatchRecovery>().Check();
        ResumeJobs(storage, runId).Should().Be(1, "the job asked for is pending, and is not asked for again within a lease period");

        clock.Advance(TimeSpan.FromSeconds(1));
        second.GetRequiredService<DispatchRecovery>().Check();
        first.GetRequiredService<DispatchRecovery>().Check();
        ResumeJobs(storage, runId).Should().Be(2, "a resume that has not taken the lease a lease period later is asked for once more");
    }

    [Fact]
    public void Check_RunWhoseLeaseWasReleased_IsLeftToHangfiresRetry()
    {
        var storage = TestHost.InMemory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var process = Process(storage, clock, DeclareNightly);
        var runId = LeaveDispatching(process, Nightly, leaseExpired: false, clock);

        // A dispatch that fails releases its lease on the way out, and Hangfire schedules its retry.
        var owner = LeaseOf(storage, Nightly).Owner;
        process.GetRequiredService<DispatchLease>().Release(Nightly, owner);
        clock.Advance(Lease * 2);
        process.GetRequiredService<DispatchRecovery>().Check();

        ResumeJobs(storage, runId).Should().Be(0, "a dispatch that failed is retried by Hangfire's retry policy, not resumed");
        Record(storage, runId).ResumeRequestedAt.Should().BeNull();
    }

    [Fact]
    public void Check_RunWhoseDispatcherStillRenewsItsLease_IsLeftAlone()
    {
        var storage = TestHost.InMemory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var process = Process(storage, clock, DeclareNightly);
        var runId = LeaveDispatching(process, Nightly, leaseExpired: false, clock);

        clock.Advance(Lease - TimeSpan.FromSeconds(1));
        process.GetRequiredService<DispatchRecovery>().Check();

        ResumeJobs(storage, runId).Should().Be(0);
    }

    [Theory]
    [InlineData("declared elsewhere only")]
    [InlineData("disabled here")]
    public void Check_RunOfAFanOutThisProcessDoesNotRun_IsLeftAlone(string fanOutHere)
    {
        var storage = TestHost.InMemory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var elsewhere = Process(storage, clock, DeclareNightly);
        using var here = Process(storage, clock, fanOut => fanOut
            .AddCron<ListSource>(fanOutHere == "disabled here" ? Nightly : "weekly", "0 3 * * *", sends: Event, o => o.Enabled = fanOutHere != "disabled here")
            .AddHandler<RecordingHandler>("notify", on: Event));
        var runId = LeaveDispatching(elsewhere, Nightly, leaseExpired: true, clock);

        here.GetRequiredService<DispatchRecovery>().Check();

        ResumeJobs(storage, runId).Should().Be(0, "a process resumes only the fan-outs it declares and has enabled; the others are its peers' to resume");
        elsewhere.GetRequiredService<DispatchRecovery>().Check();
        ResumeJobs(storage, runId).Should().Be(1, "a process that declares it does");
    }

    private static Task<TestHost> StartLiveAsync(JobStorage storage, Recorder recorder, TestItems items, SourceReads reads, Action<IServiceCollection>? more = null) =>
        TestHost.StartAsync(
            storage,
            FrozenDispatcher.Declare,
            services =>
            {
                FrozenDispatcher.AddShared(services, recorder, items, reads).AddSingleton(Quick);
                more?.Invoke(services);
            });

    private static void DeclareNightly(IFanOutBuilder fanOut) => fanOut
        .AddCron<ListSource>(Nightly, "0 3 * * *", sends: Event)
        .AddHandler<RecordingHandler>("notify", on: Event);

    /// <summary>A process's services without a host: its watchdog is called by the test, look by look.</summary>
    private static ServiceProvider Process(JobStorage storage, TimeProvider clock, Action<IFanOutBuilder> declare)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(storage)
            .AddSingleton(clock)
            .AddSingleton<Recorder>()
            .AddSingleton(new TestItems());
        declare(services.AddFanOut());
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// A run as a dispatcher leaves it mid-way: dispatching, checkpoint at 250 items, and the lease its dispatcher took,
    /// run out (as a dead dispatcher's) or still good.
    /// </summary>
    private static string LeaveDispatching(ServiceProvider process, string fanOutId, bool leaseExpired, FakeTimeProvider clock)
    {
        var runId = RunIds.New();
        var storage = process.GetRequiredService<JobStorage>();
        using (var connection = storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            var runs = process.GetRequiredService<RunStore>();
            runs.Start(transaction, runId, RunRecord.CronKind, fanOutId, Event, ["notify"]);
            runs.WriteCheckpoint(transaction, runId, new DispatchCheckpoint(250, 250, "item-000249"));
            process.GetRequiredService<DispatchLease>().Renew(transaction, fanOutId, DispatchLease.NewOwner(runId));
            transaction.Commit();
        }

        if (leaseExpired)
        {
            clock.Advance(Lease);
        }

        return runId;
    }

    private static void VerifyEachItemOnce(JobStorage storage, Recorder recorder, TestItems items, string runId)
    {
        var jobs = JobCensus.ChildJobs(storage);
        jobs.Should().OnlyContain(j => j.RunId == runId);
        jobs.Select(j => j.ItemKey).Order(StringComparer.Ordinal).Should().Equal(items.Ids, "each item's job exists once");
        recorder.Calls.Select(c => c.Key).Order(StringComparer.Ordinal).Should().Equal(items.Ids, "each item's handler ran once");
    }

    private static int ResumeJobs(JobStorage storage, string runId) =>
        storage.GetMonitoringApi().EnqueuedJobs("default", 0, 1000)
            .Count(j => DispatchJobCodec.Instance.TryRead(j.Value.Job, out var args) && args.RunId == runId);

    private static List<string> ProcessingDispatchJobs(JobStorage storage) =>
        storage.GetMonitoringApi().ProcessingJobs(0, 100).Where(j => j.Value.Job?.Type == typeof(FanOutDispatchJob)).Select(j => j.Key).ToList();

    private static RunRecord Record(JobStorage storage, string runId)
    {
        using var connection = storage.GetConnection();
        return new RunStore(TimeProvider.System).Find(connection, runId) ?? throw new InvalidOperationException($"Run {runId} has no record.");
    }

    private static DispatchLeaseState LeaseOf(JobStorage storage, string fanOutId = FrozenDispatcher.FanOutId)
    {
        using var connection = storage.GetConnection();
        return DispatchLease.Read(connection, fanOutId) ?? throw new InvalidOperationException($"Fan-out {fanOutId} holds no lease.");
    }
}
