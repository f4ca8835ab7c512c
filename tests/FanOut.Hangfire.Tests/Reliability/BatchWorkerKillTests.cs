using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariants 2 and 5 for batch handlers, the hard way: batch jobs running on two server processes, one
/// SIGKILLed while its batches run and started again. What was handled is read from the handler's own journal (one
/// record per item of every call, <c>JournalBatchHandler</c> of the test host); what the run counts, through
/// <see cref="IFanOutRuns"/> on the same storage.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BatchWorkerKillTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const string Handler = "first";
    private const int ChunkSize = 500;
    private const int BatchSize = 25;
    private const int FailEvery = 10;
    private static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Every tenth item is marked failed in its batch's first attempt, so nearly every batch is retried with its failed
    /// items alone, on either server, before and after the kill. Hangfire.PostgreSql hands the killed server's batch jobs
    /// out again after the invisibility timeout; their next call gets every item that had no committed outcome, and only
    /// those. So an item is handled more than once only when the kill cut its call off, every item is handled, and the
    /// run counts each item once.
    /// </summary>
    [Fact]
    public async Task Batches_OneOfTwoServersSigkilledMidRun_OnlyTheCutBatchesRunAgain_FailedItemsRetryAlone_TheRunCountsEachItemOnce()
    {
        var items = ReliabilityRun.Pick(3_000, 20_000);
        var database = await postgres.CreateDatabaseAsync("batch_worker_kill");
        var probe = new StorageProbe(database);
        var settings = ReliabilityRun.HostSettings(
            ("Host:Dispatch", DispatchPaths.PostgreSql),
            ("Host:BatchSize", BatchSize),
            ("Host:FailFirstAttemptEvery", FailEvery),
            ("Host:HandlerDelay", TimeSpan.FromMilliseconds(15)),
            ("Host:InvisibilityTimeout", InvisibilityTimeout),
            ("Host:DistributedLockTimeout", LockTimeout),
            ("Host:Sources:items:Items", items),
            ("FanOut:ChunkSize", ChunkSize));

        await using var first = await HostProcess.StartAsync("batch-a", database, [.. settings, new("Host:Trigger", "items")], output);
        var second = await HostProcess.StartAsync("batch-b", database, settings, output);
        HostProcess? restarted = null;
        List<long> interrupted;
        List<ItemCall> beforeKill;
        string runId;
        try
        {
            runId = await probe.SingleRunIdAsync("items");
            await Wait.UntilAsync(
                async () => KillNow(await ItemCallsAsync(probe), await probe.ProcessingJobsOfAsync(second.Pid), second.Pid),
                TimeSpan.FromSeconds(120),
                async () => $"{second.Name} to have committed a batch's outcomes and to be running two; {Describe(await ItemCallsAsync(probe), second.Pid)}");

            await second.KillAsync();
            interrupted = await probe.ProcessingJobsOfAsync(second.Pid);
            beforeKill = await ItemCallsAsync(probe);
            output.WriteLine($"Killed {second.Name} (pid {second.Pid}) with batch jobs {string.Join(", ", interrupted)} processing; {Describe(beforeKill, second.Pid)}.");
            restarted = await HostProcess.StartAsync("batch-b-restarted", database, settings, output);

            await using var runs = RunsReader.Open(database);
            FanOutRun? run = null;
            await Wait.UntilAsync(
                async () => (run = await runs.Runs.GetAsync(runId)) is { Status: FanOutRunStatus.Completed },
                TimeSpan.FromSeconds(180),
                async () => $"run {runId} to complete: {Describe(run)}; {await BatchJobsInStateAsync(probe, "Succeeded")} batch jobs succeeded, " +
                            $"{await BatchJobsInStateAsync(probe, "Processing")} processing");

            run!.Succeeded.Should().Be(items, "each item counts once, however often its batch ran");
            (run.Failed, run.Deleted, run.InFlight, run.Retrying).Should().Be((0L, 0L, 0L, 0L), "every item failed once at most and succeeded on its retry");
            run.Completions.Should().Be(1, "the run completes exactly once");
            var progress = run.Handlers.Should().ContainSingle().Subject;
            (progress.HandlerId, progress.Dispatched, progress.Succeeded, progress.Waiting, progress.Paused).Should().Be((Handler, (long)items, (long)items, 0L, 0L));
        }
        finally
        {
            await second.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }

        DispatchPaths.Verify([.. first.Lines], DispatchPaths.PostgreSql);
        (await BatchJobsInStateAsync(probe, "Succeeded")).Should().Be(items / BatchSize, "each chunk of 500 makes 20 batches of 25, and each batch job ends succeeded");
        (await probe.ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename IS DISTINCT FROM 'Succeeded' AND invocationdata->>'Type' LIKE $1", BatchJobType))
            .Should().Be(0, "no batch job is left in another state");

        var calls = await ItemCallsAsync(probe);
        var cut = CutCalls(calls, interrupted, second.Pid);
        output.WriteLine($"{calls.Count} item records in {calls.Select(c => c.Call).Distinct().Count()} calls; cut by the kill: " +
                         string.Join(", ", cut.Select(c => $"job {c.JobId} attempt {c.Attempt}")));

        calls.Where(c => c.Succeeded).Select(c => c.Item).Distinct().Should().HaveCount(items, "every item was handled at least once");
        calls.GroupBy(c => c.Item).Where(g => g.Select(c => c.JobId).Distinct().Count() > 1).Select(g => g.Key).Should()
            .BeEmpty("an item belongs to one batch job");
        calls.Where(c => !c.Finished).Select(c => c.Call).Distinct().Should()
            .BeSubsetOf(cut, "only calls the kill cut off left an item unfinished");
        // A job the kill cut off may come back as attempt 2 with every item of its cut call: Hangfire's retry filter stores
        // the retry count before the state change that would have committed the call's outcomes. The loop below checks those.
        calls.Where(c => c.Attempt > 1 && !interrupted.Contains(c.JobId)).Should()
            .OnlyContain(c => NumberOf(c.Item) % FailEvery == 0, "a retry hands the handler the items that failed, never one that succeeded");
        calls.Where(c => c.Failed).Should()
            .OnlyContain(c => NumberOf(c.Item) % FailEvery == 0 && c.Attempt == 1, "items fail on their first attempt only, as the host was told");
        calls.Where(c => NumberOf(c.Item) % FailEvery == 0).GroupBy(c => c.Item).Should()
            .OnlyContain(g => g.Any(c => c.Failed) && g.Any(c => c.Succeeded && c.Attempt == 2), "each such item failed in its first attempt, then succeeded on its retry");

        // At-least-once within the cut batches only: after an item's success was committed (its call was not cut), the
        // item is never handed over again; items handled twice belong to the batch jobs that were processing at the kill.
        var handedAgain = calls
            .Where(c => c.Succeeded && !cut.Contains(c.Call))
            .Where(c => calls.Any(later => later.Item == c.Item && later.Id > c.Id))
            .Select(c => $"{c.Item} (job {c.JobId}, attempt {c.Attempt}, pid {c.Pid})")
            .ToList();
        handedAgain.Should().BeEmpty("an item whose success was committed is not handed to the handler again");
        calls.Where(c => c.Succeeded).GroupBy(c => c.Item).Where(g => g.Count() > 1).Select(g => g.First().JobId).Distinct().Should()
            .BeSubsetOf(interrupted, "only the batch jobs the kill cut off handled an item twice");

        // The kill landed mid-run: the killed server had finished batches (which must not run again) and was running some.
        interrupted.Should().NotBeEmpty("the kill landed while the second server was running batches");
        cut.Should().NotBeEmpty("the killed server was calling the handler when it died");
        beforeKill.Where(c => c.Pid == second.Pid && c.Succeeded && !cut.Contains(c.Call)).Should()
            .NotBeEmpty("the killed server had completed batches before the kill");
        foreach (var call in cut)
        {
            var after = calls.Where(c => c.JobId == call.JobId && c.Id > calls.Where(k => k.Call == call).Max(k => k.Id)).ToList();
            after.Should().NotBeEmpty($"job {call.JobId}, cut off by the kill, ran again");
            after.Select(c => c.Pid).Should().NotContain(second.Pid).And.BeSubsetOf([first.Pid, restarted!.Pid], "the live servers took over");
            var committedBefore = calls.Where(c => c.JobId == call.JobId && c.Succeeded && c.Id < calls.Where(k => k.Call == call).Min(k => k.Id)).Select(c => c.Item).ToHashSet();
            after.Select(c => c.Item).Should().NotIntersectWith(committedBefore, $"job {call.JobId}'s items that succeeded before the cut call are not handed over again");
            output.WriteLine($"Job {call.JobId}: cut in attempt {call.Attempt} after {committedBefore.Count} items had succeeded in earlier calls; " +
                             $"{after.Select(c => c.Item).Distinct().Count()} items handed over again.");
        }
    }

    private static readonly string BatchJobType = typeof(FanOutBatchJob).FullName + ",%";

    // Kill once the server has a call whose outcome committed (its job left Processing there, or went on to another
    // call) twice over, so items that must never run again, and runs two batches now.
    private static bool KillNow(List<ItemCall> calls, List<long> processing, int pid)
    {
        var ofServer = calls.Where(c => c.Pid == pid).ToList();
        var committed = ofServer.GroupBy(c => c.Call).Count(g =>
            g.All(c => c.Finished) && (!processing.Contains(g.Key.JobId) || calls.Any(c => c.JobId == g.Key.JobId && c.Id > g.Max(k => k.Id))));
        return committed >= 2 && ofServer.Count(c => !c.Finished) >= 2;
    }

    // A call cut by the kill: the last call the killed server made of each job it was processing when it died. (Such a
    // job may have had no call yet; then its last call is an earlier, committed one, which only makes the checks milder.)
    private static HashSet<CallId> CutCalls(List<ItemCall> calls, List<long> interrupted, int pid) =>
        calls.Where(c => c.Pid == pid && interrupted.Contains(c.JobId))
            .GroupBy(c => c.JobId)
            .Select(g => g.MaxBy(c => c.Id)!.Call)
            .ToHashSet();

    private static Task<long> BatchJobsInStateAsync(StorageProbe probe, string state) =>
        probe.ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename = $1 AND invocationdata->>'Type' LIKE $2", state, BatchJobType);

    private static async Task<List<ItemCall>> ItemCallsAsync(StorageProbe probe) =>
        await probe.ListAsync(
            "SELECT id, item, job_id, attempt, pid, finished_at IS NOT NULL, failed FROM reliability.executions WHERE handler = $1 ORDER BY id",
            r => new ItemCall(
                r.GetInt64(0),
                r.GetString(1),
                long.Parse(r.GetString(2), CultureInfo.InvariantCulture),
                r.GetInt32(3),
                r.GetInt32(4),
                r.GetBoolean(5),
                r.GetBoolean(6)),
            Handler);

    private static int NumberOf(string item) => int.Parse(item.AsSpan(item.LastIndexOf('-') + 1), NumberStyles.None, CultureInfo.InvariantCulture);

    private static string Describe(List<ItemCall> calls, int pid) =>
        $"{calls.Count(c => c.Succeeded)} items handled in all, {calls.Count(c => c.Pid == pid && c.Succeeded)} on pid {pid}, " +
        $"{calls.Count(c => c.Pid == pid && !c.Finished)} in progress there";

    private static string Describe(FanOutRun? run) => run is null
        ? "no run yet"
        : $"{run.Status}, {run.DispatchedItems} items dispatched, {run.Succeeded} succeeded, {run.Failed} failed, {run.Retrying} retrying, " +
          $"{run.InFlight} in flight, {run.Completions} completions";

    /// <summary>A batch handler's call, as the journal tells it: the job, the process and the attempt.</summary>
    private sealed record CallId(long JobId, int Pid, int Attempt);

    /// <summary>One item of one call of the batch handler, as the test host journaled it.</summary>
    private sealed record ItemCall(long Id, string Item, long JobId, int Attempt, int Pid, bool Finished, bool Failed)
    {
        public CallId Call => new(JobId, Pid, Attempt);

        public bool Succeeded => Finished && !Failed;
    }

    /// <summary>
    /// <see cref="IFanOutRuns"/> as an application reads it, over a storage of the test's own on the hosts' database: in a
    /// host built but never started, so it runs no server and none of the start-up work that would change the hosts'
    /// recurring jobs.
    /// </summary>
    private sealed class RunsReader(Microsoft.Extensions.Hosting.IHost host, global::Hangfire.JobStorage storage) : IAsyncDisposable
    {
        public IFanOutRuns Runs { get; } = host.Services.GetRequiredService<IFanOutRuns>();

        public static RunsReader Open(string database)
        {
            var storage = TestHost.Postgres(database);
            return new RunsReader(TestHost.Build(storage, _ => { }, services: null, hangfireServer: null), storage);
        }

        public ValueTask DisposeAsync() => new(TestHost.StopAsync(host, storage, TimeSpan.FromSeconds(10)));
    }
}
