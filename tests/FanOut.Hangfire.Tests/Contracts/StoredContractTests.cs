using FanOut.Hangfire.Flow;
using System.Reflection;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire.Common;
using Hangfire.InMemory;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Contracts;

/// <summary>
/// What the library stores and a later version must read (design.md invariant 6): the job types Hangfire serializes by
/// name, their method signatures and argument order, the job parameters, and the storage keys and fields of runs and
/// leases. A change here breaks jobs already queued and runs already recorded by the version before, so each assertion
/// says so; add a new contract beside the old one instead of changing it.
/// </summary>
public sealed class StoredContractTests
{
    private const string Why = "it is a stored contract: jobs queued and runs recorded by an earlier version are read back with it, so changing it breaks them (design.md invariant 6)";

    public static TheoryData<Type, string, string, string[]> JobContracts() => new()
    {
        {
            typeof(FanOutDispatchJob), "FanOut.Hangfire.Jobs.FanOutDispatchJob", "DispatchAsync",
            ["System.String fanOutId", "System.String runId", "Hangfire.Server.PerformContext context", "System.Threading.CancellationToken cancellationToken"]
        },
        {
            typeof(FanOutItemJob), "FanOut.Hangfire.Jobs.FanOutItemJob", "ExecuteAsync",
            ["System.String handlerId", "System.String runId", "System.String itemKey", "System.String itemJson", "Hangfire.Server.PerformContext context", "System.Threading.CancellationToken cancellationToken"]
        },
        {
            typeof(FanOutBatchJob), "FanOut.Hangfire.Jobs.FanOutBatchJob", "ExecuteAsync",
            ["System.String handlerId", "System.String runId", "System.String batchKey", "System.String[] itemKeys", "System.String[] itemsJson", "Hangfire.Server.PerformContext context", "System.Threading.CancellationToken cancellationToken"]
        },
        {
            typeof(FanOutCompletionJob), "FanOut.Hangfire.Jobs.FanOutCompletionJob", "RunAsync",
            ["System.String name", "System.String runId", "System.Int32 completion", "System.Threading.CancellationToken cancellationToken"]
        },
    };

    [Theory]
    [MemberData(nameof(JobContracts))]
    public void JobType_KeepsItsNameMethodAndParameters(Type type, string fullName, string methodName, string[] parameters)
    {
        type.FullName.Should().Be(fullName, "the job type's full name {0}", Why);
        type.Assembly.GetName().Name.Should().Be("FanOut.Hangfire", "the job type's assembly {0}", Why);

        var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
        methods.Select(m => m.Name).Should().Equal([methodName], "the job method's name {0}, and Hangfire finds it by name", Why);
        methods[0].GetParameters().Select(p => $"{p.ParameterType.FullName} {p.Name}")
            .Should().Equal(parameters, "the job method's parameter list {0}", Why);
    }

    [Fact]
    public void ItemJob_StoresItsArgumentsInOrder_AndReadsThemBack()
    {
        var args = new ItemJobArgs("send-slack", "run-1", "acct-42", "\"acct-42\"");

        var job = ItemJobCodec.Instance.Create(Hangfire(), args, "slack");

        job.Args.Should().Equal(["send-slack", "run-1", "acct-42", "\"acct-42\"", null, CancellationToken.None], "the item job's argument order {0}", Why);
        ItemJobCodec.Instance.TryRead(job, out var read).Should().BeTrue();
        read.Should().Be(args);
    }

    [Fact]
    public void BatchJob_StoresItsArgumentsInOrder_ReadsThemBack_AndCountsEachItemAsAMemberOfItsJob()
    {
        var args = new BatchJobArgs("bulk-email", "run-4", "T-42", ["acct-1", "acct-2"], ["\"acct-1\"", "\"acct-2\""]);

        var job = BatchJobCodec.Instance.Create(Hangfire(), args, "email");

        job.Args.Should().BeEquivalentTo(
            new object?[] { "bulk-email", "run-4", "T-42", new[] { "acct-1", "acct-2" }, new[] { "\"acct-1\"", "\"acct-2\"" }, null, CancellationToken.None },
            o => o.WithStrictOrdering(),
            "the batch job's argument order {0}", Why);
        BatchJobCodec.Instance.TryRead(job, out var read).Should().BeTrue();
        (read!.HandlerId, read.RunId, read.BatchKey, read.Count).Should().Be(("bulk-email", "run-4", "T-42", 2));
        read.ItemKeys.Should().Equal("acct-1", "acct-2");
        BatchJobCodec.Instance.TryRead(BatchJobCodec.Instance.Create(Hangfire(), args with { BatchKey = null }, "email"), out var unkeyed).Should().BeTrue();
        unkeyed!.BatchKey.Should().BeNull("a batch handler without a batch key stores none");
        ItemJobCodec.Instance.TryRead(job, out _).Should().BeFalse();
        ChildJobs.TryRead(job, out var lead).Should().BeTrue();
        lead.Should().Be(new ItemJobArgs("bulk-email", "run-4", "acct-1", "\"acct-1\""), "the batch's first item speaks for it to the filters");

        OutcomeMembers.Of("123", 7).Should().Be("123#7", "a batch item's member of the run's outcome sets {0}", Why);
        OutcomeMembers.All("123", 100).Should().Be("123#0-99", "the member of all a batch's items {0}", Why);
        OutcomeMembers.All("123", 1).Should().Be("123#0", "a batch of one item is its one item {0}", Why);
        OutcomeMembers.Parse("123#7").Should().Be(new OutcomeMember("123", 7, 7));
        OutcomeMembers.Parse("123#0-99").Should().Be(new OutcomeMember("123", 0, 99));
        OutcomeMembers.Parse("123#0-99").Count.Should().Be(100);
        OutcomeMembers.Parse("123").Should().Be(new OutcomeMember("123", null, null), "an item job's member is its id");
        OutcomeMembers.Parse("123").Count.Should().Be(1);
        RunStore.BatchHandlersField.Should().Be("BatchHandlers", "the field naming a run's batch handlers, whose sets count ranges {0}", Why);
        StorageKeys.BatchProgress("123").Should().Be("fanout:batch:123", "the hash of a batch's item outcomes {0}", Why);
        (BatchProgress.SucceededPrefix, BatchProgress.ErrorPrefix).Should().Be(("ok:", "error:"), "the fields of that hash {0}", Why);
        BatchDisplayNameAttribute.Of(job).Should().Be("bulk-email · 2 items (acct-1 …)", "the dashboard names a batch job by its handler, size and first item");
    }

    [Fact]
    public void DispatchJob_StoresItsArgumentsInOrder_AndReadsThemBack()
    {
        var args = new DispatchJobArgs("nightly", "run-2");

        var job = DispatchJobCodec.Instance.Create(Hangfire(), args, "default");

        job.Args.Should().Equal(["nightly", "run-2", null, CancellationToken.None], "the dispatch job's argument order {0}", Why);
        DispatchJobCodec.Instance.TryRead(job, out var read).Should().BeTrue();
        read.Should().Be(args);
        DispatchJobCodec.Instance.TryRead(DispatchJobCodec.Instance.Create(Hangfire(), args with { RunId = null }, "default"), out var firing).Should().BeTrue();
        firing!.RunId.Should().BeNull("a cron firing's dispatch job carries no run id");
    }

    [Fact]
    public void CompletionJob_StoresItsArgumentsInOrder_AndReadsThemBack()
    {
        var args = new CompletionJobArgs("nightly", "run-3", 2);

        var job = CompletionJobCodec.Instance.Create(Hangfire(), args, "reports");

        job.Args.Should().Equal(["nightly", "run-3", 2, CancellationToken.None], "the completion job's argument order {0}", Why);
        CompletionJobCodec.Instance.TryRead(job, out var read).Should().BeTrue();
        read.Should().Be(args);
    }

    [Fact]
    public void Codecs_ReadNoOtherKindOfJob()
    {
        var item = ItemJobCodec.Instance.Create(Hangfire(), new ItemJobArgs("h", "r", "k", "1"), "default");
        var plain = Job.FromExpression(() => Console.WriteLine("not a fan-out job"));

        DispatchJobCodec.Instance.TryRead(item, out _).Should().BeFalse();
        CompletionJobCodec.Instance.TryRead(item, out _).Should().BeFalse();
        ItemJobCodec.Instance.TryRead(plain, out _).Should().BeFalse();
        ItemJobCodec.Instance.TryRead(null, out _).Should().BeFalse();
    }

    [Fact]
    public void JobParameters_KeepTheirNames()
    {
        JobParameters.RunId.Should().Be("FanOut.RunId", "the job parameter holding a cron firing's run id {0}", Why);
        JobParameters.TraceParent.Should().Be("FanOut.TraceParent", "the job parameter carrying the trace context {0}", Why);
        JobParameters.RetryCount.Should().Be("RetryCount", "it is Hangfire's own parameter");
        JobParameters.Log(1).Should().Be("FanOut.Log.1", "the job parameter holding an attempt's log {0}", Why);
        JobParameters.Log(12).Should().Be("FanOut.Log.12", "the job parameter holding an attempt's log {0}", Why);
    }

    [Fact]
    public void JobLog_KeepsItsStoredForm_AndReadsItBack()
    {
        var at = new DateTimeOffset(2026, 12, 1, 9, 30, 0, 125, TimeSpan.Zero);
        FanOutLogEntry[] entries =
        [
            new(at, Microsoft.Extensions.Logging.LogLevel.Information, "MyApp.PostSlack", "Posting to <#C42>\nfor T-1", null),
            new(at.AddSeconds(1), Microsoft.Extensions.Logging.LogLevel.Error, "MyApp.PostSlack", "Slack said no", "System.Net.Http.HttpRequestException: 500"),
        ];

        var stored = JobLogCodec.Encode(entries, dropped: 7);

        stored.Should().Be(
            """
            {"dropped":7}
            {"t":"2026-12-01T09:30:00.1250000+00:00","l":"Information","c":"MyApp.PostSlack","m":"Posting to <#C42>\nfor T-1"}
            {"t":"2026-12-01T09:30:01.1250000+00:00","l":"Error","c":"MyApp.PostSlack","m":"Slack said no","e":"System.Net.Http.HttpRequestException: 500"}
            """.ReplaceLineEndings("\n"),
            "the stored form of a job's log {0}",
            Why);
        var read = JobLogCodec.Decode("42", 3, stored)!;
        (read.JobId, read.Attempt, read.DroppedEntries).Should().Be(("42", 3, 7));
        read.Entries.Should().BeEquivalentTo(entries);
        JobLogCodec.Decode("42", 1, "not a log").Should().BeNull("a value written by something else is no log");
    }

    [Fact]
    public void StorageKeys_KeepTheirLayout()
    {
        StorageKeys.Run("r1").Should().Be("fanout:run:r1", "the key of a run's record {0}", Why);
        StorageKeys.Outcome("r1", "send-slack", "failed").Should().Be("fanout:run:r1:send-slack:failed", "the key of a run's outcome set {0}", Why);
        StorageKeys.OpenRuns.Should().Be("fanout:open-runs", "the set of open runs {0}", Why);
        StorageKeys.RunList("nightly").Should().Be("fanout:runs:nightly", "the list of a fan-out's runs {0}", Why);
        StorageKeys.RunLock("r1").Should().Be("fanout:run-lock:r1", "the lock completing a run {0}", Why);
        StorageKeys.ResumeLock("r1").Should().Be("fanout:resume-lock:r1", "the lock asking for the resume of an interrupted run {0}", Why);
        StorageKeys.Lease("nightly").Should().Be("fanout:lease:nightly", "the key of a fan-out's dispatch lease {0}", Why);
        StorageKeys.LeaseLock("nightly").Should().Be("fanout:lease-lock:nightly", "the lock guarding a lease {0}", Why);
        StorageKeys.RecurringJob("nightly").Should().Be("fanout:nightly", "the recurring job id of a cron fan-out {0}", Why);
        StorageKeys.IsOwnedRecurringJob("fanout:nightly").Should().BeTrue();
        StorageKeys.IsOwnedRecurringJob("nightly").Should().BeFalse("the library never touches a recurring job it does not own");
    }

    [Fact]
    public void FlowKeys_KeepTheirLayout()
    {
        StorageKeys.Outcome("r1", "notify", RunOutcomesAttribute.Waiting).Should().Be("fanout:run:r1:notify:waiting", "the set of a run's waiting jobs {0}", Why);
        StorageKeys.FlowRunning("handler:notify").Should().Be("fanout:flow:handler:notify:running", "the slots held {0}", Why);
        StorageKeys.FlowRunningOfKey("limit:slack", "T-42").Should().Be("fanout:flow:limit:slack:running-of:T-42", "the slots held by a key {0}", Why);
        StorageKeys.FlowWaiting("handler:notify").Should().Be("fanout:flow:handler:notify:waiting", "the waiting jobs {0}", Why);
        StorageKeys.FlowWaitingOfKey("handler:notify", "T-42").Should().Be("fanout:flow:handler:notify:waiting-of:T-42", "a key's waiting jobs {0}", Why);
        StorageKeys.FlowWaitingKeys("handler:notify").Should().Be("fanout:flow:handler:notify:waiting-keys", "the keys with jobs waiting {0}", Why);
        StorageKeys.FlowReadyKeys("handler:notify").Should().Be("fanout:flow:handler:notify:ready-keys", "the round of keys {0}", Why);
        StorageKeys.FlowThrottle("handler:notify").Should().Be("fanout:flow:handler:notify:throttle", "a limit's throttle times {0}", Why);
        StorageKeys.FlowOrphans("handler:notify").Should().Be("fanout:flow:handler:notify:orphans", "the slots of orphaned calls {0}", Why);
        StorageKeys.FlowDue.Should().Be("fanout:flow-due", "the parked jobs {0}", Why);
        StorageKeys.FlowLock("handler:notify").Should().Be("fanout:flow-lock:handler:notify", "a limit's lock {0}", Why);
        StorageKeys.FlowLock(StorageKeys.FlowStartsLockName("handler:notify")).Should().Be("fanout:flow-lock:starts:handler:notify", "the lock of a limit's throttled call starts {0}", Why);
        SlotRecord.Of("42", "T|42").Should().Be("42|T|42", "a job's member of its limit's running set {0}", Why);
        SlotRecord.HeldKey(set => set == "fanout:flow:handler:notify:running" ? ["7|T-1", "42|T|42"] : [], "handler:notify", keyed: true, "42", "T-9")
            .Should().Be("T|42", "the key held is read back from the running set's member {0}", Why);
        SlotRecord.Orphan("42", "host:1:abc", "T|42").Should().Be("orphan|42|host:1:abc|T|42", "an orphan record {0}", Why);
        SlotRecord.TryReadOrphan("orphan|42|host:1:abc|T|42", out var jobId, out var serverId, out var key).Should().BeTrue();
        (jobId, serverId, key).Should().Be(("42", "host:1:abc", "T|42"));
    }

    [Fact]
    public void WaitingState_KeepsItsNameAndData()
    {
        var due = DateTimeOffset.FromUnixTimeMilliseconds(1_767_225_600_000);
        var parked = new FanOutWaitingState("handler:notify", "T-42", due, "reason");

        parked.Name.Should().Be("FanOutWaiting", "the state's name {0}", Why);
        parked.IsFinal.Should().BeFalse("a waiting job must not expire");
        parked.SerializeData().Should().Equal(new Dictionary<string, string> { ["Limit"] = "handler:notify", ["Key"] = "T-42", ["Due"] = "1767225600000" });
        FanOutWaitingState.Read(parked.SerializeData()).Should().Be(("T-42", (DateTimeOffset?)due));
        FanOutWaitingState.ForSlot("notify", "handler:notify", "T-42").SerializeData().Should().Equal(new Dictionary<string, string> { ["Limit"] = "handler:notify", ["Key"] = "T-42" });
        FanOutWaitingState.ForSlot("notify", "handler:notify", "T-42").Reason.Should().Be("Waiting for a slot of notify, key T-42");
    }

    [Fact]
    public void RunRecord_KeepsItsFieldsAndValues()
    {
        new[]
        {
            RunStore.KindField, RunStore.NameField, RunStore.EventField, RunStore.StatusField, RunStore.HandlersField,
            RunStore.StartedField, RunStore.FinishedField, RunStore.ItemsField, RunStore.JobsField, RunStore.LastKeyField,
            RunStore.CompletedField, RunStore.CompletionsField, RunStore.TriggeredField, RunStore.ResumeRequestedField,
        }.Should().Equal(
            ["Kind", "Name", "Event", "Status", "Handlers", "DispatchStartedAt", "DispatchFinishedAt", "DispatchedItems", "DispatchedJobs", "LastKey", "CompletedAt", "Completions", "TriggeredAt", "ResumeRequestedAt"],
            "the fields of a run's record {0}",
            Why);
        new[] { RunRecord.CronKind, RunRecord.SendKind }.Should().Equal(["cron", "send"], "a run's kinds {0}", Why);
        new[] { RunRecord.Pending, RunRecord.Dispatching, RunRecord.Dispatched, RunRecord.Skipped, RunRecord.Interrupted }
            .Should().Equal(["pending", "dispatching", "dispatched", "skipped", "interrupted"], "a run's statuses {0}", Why);
        new[] { RunOutcomesAttribute.Succeeded, RunOutcomesAttribute.Failed, RunOutcomesAttribute.Deleted }
            .Should().Equal(["succeeded", "failed", "deleted"], "the outcome names in run keys {0}", Why);
        StorageKeys.Outcome("r1", "notify", RunOutcomesAttribute.Retrying).Should().Be("fanout:run:r1:notify:retrying", "the set of a run's jobs waiting for their retry, scored by when it is due {0}", Why);
    }

    [Fact]
    public void Pauses_KeepTheirKeysFieldsAndValues()
    {
        StorageKeys.Paused.Should().Be("fanout:paused", "the set of what is paused {0}", Why);
        StorageKeys.PausedCron("nightly").Should().Be("cron:nightly", "a paused fan-out's member {0}", Why);
        StorageKeys.PausedHandler("send-slack").Should().Be("handler:send-slack", "a paused handler's member {0}", Why);
        StorageKeys.Pause("handler:send-slack").Should().Be("fanout:pause:handler:send-slack", "the hash of one pause {0}", Why);
        PauseStore.PausedAtField.Should().Be("PausedAt", "the field of a pause's time {0}", Why);
        StorageKeys.PauseLock.Should().Be("fanout:pause-lock", "the lock of pauses and resumes {0}", Why);
        StorageKeys.PausedJobs("send-slack").Should().Be("fanout:paused-jobs:send-slack", "a paused handler's waiting jobs {0}", Why);
        StorageKeys.PauseReleaseLock("send-slack").Should().Be("fanout:pause-release-lock:send-slack", "the lock of a release {0}", Why);
        StorageKeys.Outcome("r1", "send-slack", RunOutcomesAttribute.Paused).Should().Be("fanout:run:r1:send-slack:paused", "the set of a run's paused jobs {0}", Why);
        RunStore.SkipReasonField.Should().Be("SkipReason", "the field of a skipped run's reason {0}", Why);
        new[] { RunRecord.OverlapSkip, RunRecord.PausedSkip }.Should().Equal(["overlap", "paused"], "the reasons of a skip {0}", Why);
        RunOutcomesAttribute.CreationOrder(new DateTime(2026, 1, 1, 0, 0, 0, 1, DateTimeKind.Utc)).Should().Be(1_767_225_600_001, "paused jobs are scored by their creation in Unix ms {0}", Why);

        var paused = FanOutWaitingState.ForPause("send-slack");
        paused.Name.Should().Be("FanOutWaiting", "a paused job reuses the waiting state {0}", Why);
        paused.IsFinal.Should().BeFalse("a paused job must not expire");
        paused.SerializeData().Should().Equal(new Dictionary<string, string> { ["Limit"] = string.Empty, ["Key"] = string.Empty, ["Paused"] = "send-slack" }, "a paused job's state data {0}", Why);
        FanOutWaitingState.PausedHandlerOf(paused.SerializeData()).Should().Be("send-slack");
        FanOutWaitingState.PausedHandlerOf(FanOutWaitingState.ForSlot("notify", "handler:notify", "T-42").SerializeData()).Should().BeNull();
        paused.Reason.Should().Be("Paused: handler send-slack is paused");
    }

    [Fact]
    public void CancelledRuns_KeepTheirKeysFieldAndStatus()
    {
        StorageKeys.CancelledRuns.Should().Be("fanout:cancelled-runs", "the set every process reads to learn of cancels {0}", Why);
        StorageKeys.CancelLock("r1").Should().Be("fanout:cancel-lock:r1", "the lock of a run's cancel and of the deletion of its jobs {0}", Why);
        StorageKeys.ChunkLock("r1", 1).Should().Be("fanout:chunk-lock:r1:1", "the lock a dispatch's chunk holds until it commits, which a cancel waits for {0}", Why);
        RunStore.CancelledField.Should().Be("CancelledAt", "the field of a cancelled run's record {0}", Why);
        RunRecord.Cancelled.Should().Be("cancelled", "a cancelled run's status {0}", Why);
    }

    [Fact]
    public void Lease_KeepsItsFields() =>
        new[] { DispatchLease.OwnerField, DispatchLease.ExpiresField }.Should().Equal(["Owner", "ExpiresAt"], "the fields of a lease {0}", Why);

    [Fact]
    public void RunOperations_IdempotencyKeysOverlapBufferAndManualTriggers_KeepTheirLayout()
    {
        StorageKeys.Idempotency("tenant/due", "order:42").Should().Be("fanout:idempotency:tenant/due:order:42", "the record of an idempotency key {0}", Why);
        StorageKeys.IdempotencyLock("tenant/due", "order:42").Should().Be("fanout:idempotency-lock:tenant/due:order:42", "the lock of an idempotency key {0}", Why);
        new[] { IdempotencyKeys.RunIdField, IdempotencyKeys.CreatedField }.Should().Equal(["RunId", "CreatedAt"], "the fields of an idempotency key's record {0}", Why);
        StorageKeys.LeaseBuffer("nightly").Should().Be("fanout:lease-buffer:nightly", "the waiting place of Overlap = BufferOne {0}", Why);
        (RunStore.TriggerField, RunStore.ManualTrigger).Should().Be(("Trigger", "manual"), "the mark of a manually triggered run {0}", Why);
    }

    private static HangfireServices Hangfire()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddSingleton<global::Hangfire.JobStorage>(new InMemoryStorage());
        return new HangfireServices(services.BuildServiceProvider());
    }
}
