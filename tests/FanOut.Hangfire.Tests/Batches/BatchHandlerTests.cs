using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Batches;

/// <summary>
/// Batch handlers on InMemory and PostgreSQL (design.md invariant 20): items handed over in batches of one run, an
/// outcome per item (only the failed ones retried, each failed one shown with its own error, "Retry failed" retrying
/// exactly those), batch keys, runs that count items, a limit that counts calls, and a cancel that stops batches.
/// </summary>
public abstract class BatchHandlerMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Event = "account/due";

    [Fact]
    public async Task Batch_BesideAnItemHandler_GetsTheRunsItemsInBatchesOfMaxBatchSize_AndTheRunCountsItems()
    {
        var calls = new BatchCalls();
        await using var host = await StartAsync(
            fanOut => fanOut
                .AddBatchHandler<ScriptedBatchHandler>("bulk", on: Event, h => h.MaxBatchSize = 40)
                .AddHandler<RecordingHandler>("one-by-one", on: Event),
            services => services.AddSingleton(calls).AddSingleton<Recorder>().Configure<FanOutOptions>(o => o.ChunkSize = 100));
        var items = Enumerable.Range(1, 250).Select(i => $"acct-{i}").ToList();

        var runId = await host.Client.SendManyAsync(Event, items);
        var run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.Completed, "to complete");

        var bulk = run.Handlers.Single(h => h.HandlerId == "bulk");
        (bulk.Dispatched, bulk.Succeeded, bulk.Failed, bulk.InFlight).Should().Be((250, 250, 0, 0), "a batch handler's counts are items");
        var single = run.Handlers.Single(h => h.HandlerId == "one-by-one");
        (single.Dispatched, single.Succeeded).Should().Be((250, 250));
        host.Services.GetRequiredService<Recorder>().CountOf("one-by-one").Should().Be(250, "the item handler still gets one job per item");

        calls.KeysHandled("bulk").Should().BeEquivalentTo(items, "every item is handed over exactly once");
        calls.Calls.Select(c => c.Keys.Count).Should().BeEquivalentTo(new[] { 40, 40, 20, 40, 40, 20, 40, 10 },
            "a batch holds at most MaxBatchSize items and never spans two chunks of 100");
        calls.Calls.Should().OnlyContain(c => c.Attempt == 1 && c.BatchKey == null && c.BatchSize == c.Keys.Count);
        calls.Calls.Single(c => c.Keys[0] == "acct-1").Keys.Should().Equal(items.Take(40), "a batch keeps the items' order");
    }

    [Fact]
    public async Task Batch_SomeItemsFail_OnlyThoseAreRetried_EachFailedOneShowsItsOwnError_AndRetryFailedRetriesExactlyThem()
    {
        var calls = new BatchCalls { AlwaysFails = "bad-" };
        await using var host = await StartAsync(
            fanOut => fanOut.AddBatchHandler<ScriptedBatchHandler>("bulk", on: Event, h =>
            {
                h.RetryAttempts = 2;
                h.RetryDelays.Add(TimeSpan.FromSeconds(1));
            }),
            services => services.AddSingleton(calls));
        var items = new[] { "ok-1", "bad-1", "flaky-1", "ok-2", "bad-2", "flaky-2", "ok-3" };

        var runId = await host.Client.SendManyAsync(Event, items);
        var run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.CompletedWithFailures, "to complete with failures");

        (run.Succeeded, run.Failed, run.InFlight, run.Retrying).Should().Be((5, 2, 0, 0));
        calls.Calls.Select(c => c.Keys).Should().BeEquivalentTo(
            new[] { items, ["bad-1", "flaky-1", "bad-2", "flaky-2"], ["bad-1", "bad-2"] },
            o => o.WithStrictOrdering(),
            "each retry hands the handler only the items that failed, and an item that succeeded is never handed over again");
        calls.Calls.Select(c => c.Attempt).Should().Equal(1, 2, 3);
        calls.Calls.Should().OnlyContain(c => c.BatchSize == 7, "the context says how big the batch was dispatched");

        var failed = await Runs(host).GetFailedItemsAsync(runId);
        failed.Select(f => f.ItemKey).Should().Equal("bad-1", "bad-2");
        failed.Select(f => f.ExceptionMessage).Should().Equal("bad-1 was refused (attempt 3)", "bad-2 was refused (attempt 3)");
        failed.Should().OnlyContain(f => f.ExceptionType == typeof(InvalidOperationException).FullName && f.HandlerId == "bulk");
        failed.Select(f => f.JobId).Distinct().Should().ContainSingle("both failed in the same batch job");
        host.Storage.GetMonitoringApi().JobDetails(failed[0].JobId).History[0].Data["ExceptionMessage"]
            .Should().Contain("2 of the 2 items").And.Contain("'bad-1'").And.Contain("'bad-2'");

        calls.AlwaysFails = null;
        (await Runs(host).RetryFailedAsync(runId)).Should().Be(2, "the two failed items are requeued, in their one job");
        run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.Completed && r.Completions == 2, "to complete again");
        (run.Succeeded, run.Failed).Should().Be((7, 0));
        calls.Calls.Last().Keys.Should().Equal("bad-1", "bad-2");
        items.Should().OnlyContain(i => calls.TimesHandled(i) == (i.StartsWith("bad-") ? 4 : i.StartsWith("flaky-") ? 2 : 1));
    }

    [Fact]
    public async Task Batch_HandlerThrows_FailsEveryItemOfTheCall_WithItsException()
    {
        var calls = new BatchCalls();
        await using var host = await StartAsync(
            fanOut => fanOut.AddBatchHandler<ScriptedBatchHandler>("bulk", on: Event, h => h.RetryAttempts = 0),
            services => services.AddSingleton(calls));

        var runId = await host.Client.SendManyAsync(Event, ["a-1", "throw", "a-2"]);
        var run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.CompletedWithFailures, "to complete with failures");

        (run.Failed, run.Succeeded).Should().Be((3, 0));
        var failed = await Runs(host).GetFailedItemsAsync(runId);
        failed.Select(f => f.ItemKey).Should().Equal("a-1", "throw", "a-2");
        failed.Should().OnlyContain(f => f.ExceptionType == typeof(TimeoutException).FullName && f.ExceptionMessage == "the bulk API timed out for the batch of 3 from a-1");
    }

    [Fact]
    public async Task Batch_WithABatchKey_HoldsItemsOfOneKeyOnly_AndAnItemWithoutAKeyFailsAloneAtDispatch()
    {
        var calls = new BatchCalls();
        await using var host = await StartAsync(
            fanOut => fanOut.AddBatchHandler<WorkspaceBatchHandler>("per-workspace", on: Event, h =>
            {
                h.MaxBatchSize = 3;
                h.UseBatchKey<WorkspaceItem>(item => item.Workspace == "none" ? null : item.Workspace);
            }),
            services => services.AddSingleton(calls));
        var items = Enumerable.Range(1, 10).Select(i => new WorkspaceItem(i % 3 == 0 ? "T-big" : $"T-{i % 2}", $"i-{i}")).Append(new WorkspaceItem("none", "orphan")).ToList();

        var runId = await host.Client.SendManyAsync(Event, items);
        var run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.CompletedWithFailures, "to complete with the unkeyed item failed");

        (run.Succeeded, run.Failed).Should().Be((10, 1));
        calls.Calls.Should().OnlyContain(c => c.Keys.Count <= 3 && c.Keys.All(k => k.StartsWith(c.BatchKey + "/", StringComparison.Ordinal)), "a batch holds items of its key only");
        calls.KeysHandled("per-workspace").Should().BeEquivalentTo(items.Where(i => i.Workspace != "none").Select(i => $"{i.Workspace}/{i.Id}"));
        var failed = (await Runs(host).GetFailedItemsAsync(runId)).Should().ContainSingle().Subject;
        failed.ItemKey.Should().Be("orphan");
        failed.ExceptionMessage.Should().Contain("batch key function of handler 'per-workspace' returned null for item 'orphan'");
        calls.TimesHandled("none/orphan").Should().Be(0, "an item without a key is never handed over, and not retried");
    }

    [Fact]
    public async Task Batch_UnderAConcurrencyLimit_TakesOneSlotPerCall()
    {
        var calls = new BatchCalls { CallTime = TimeSpan.FromMilliseconds(150) };
        await using var host = await StartAsync(
            fanOut => fanOut.AddBatchHandler<ScriptedBatchHandler>("bulk", on: Event, h =>
            {
                h.MaxBatchSize = 5;
                h.ConcurrencyLimit = 2;
            }),
            services => services.AddSingleton(calls),
            workers: 6);

        var runId = await host.Client.SendManyAsync(Event, Enumerable.Range(1, 40).Select(i => $"acct-{i}"));
        var run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.Completed, "to complete");

        run.Succeeded.Should().Be(40);
        calls.Calls.Should().HaveCount(8);
        calls.Peak.Should().Be(2, "a limit counts calls: two batches at once, with six workers free");
        (await Runs(host).GetLimitsAsync()).Single().Running.Should().Be(0);
    }

    [Fact]
    public async Task Batch_RunCancelled_StopsItsRunningBatches_DeletesTheRest_AndEndsWithEveryItemCounted()
    {
        var calls = new BatchCalls { HoldUntilCancelled = true };
        await using var host = await StartAsync(
            fanOut => fanOut.AddBatchHandler<ScriptedBatchHandler>("bulk", on: Event, h => h.MaxBatchSize = 5),
            services => services.AddSingleton(calls),
            workers: 2);
        var runId = await host.Client.SendManyAsync(Event, Enumerable.Range(1, 30).Select(i => $"acct-{i}"));
        await Wait.UntilAsync(() => calls.Running == 2, Timeout, () => $"{calls.Running} batches running");

        var result = await Runs(host).CancelAsync(runId);
        var run = await WaitForAsync(host, runId, r => r.Status == FanOutRunStatus.Cancelled && r.InFlight == 0 && r.Completions == 1, "to end cancelled");

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        (run.Deleted, run.Succeeded, run.InFlight).Should().Be((30, 0, 0), "every item of the six batches is counted deleted");
        calls.TokensFired.Should().Be(2);
        calls.Calls.Should().HaveCount(2, "no batch started after the cancel");
    }

    private static IFanOutRuns Runs(TestHost host) => host.Services.GetRequiredService<IFanOutRuns>();

    private static async Task<FanOutRun> WaitForAsync(TestHost host, string runId, Func<FanOutRun, bool> condition, string what)
    {
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = await Runs(host).GetAsync(runId)) is { } found && condition(found),
            Timeout,
            () => $"run {runId} {what}: {(run is null ? "no record" : $"{run.Status}, {run.Succeeded} succeeded, {run.Failed} failed, {run.Deleted} deleted, {run.InFlight} in flight, {run.Retrying} retrying")}");
        return run!;
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class BatchHandlerOnInMemory() : BatchHandlerMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class BatchHandlerOnPostgreSql(PostgresServer server) : BatchHandlerMatrix(StorageUnderTest.PostgreSql(server));
