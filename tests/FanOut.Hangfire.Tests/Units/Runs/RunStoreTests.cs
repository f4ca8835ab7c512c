using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire.InMemory;
using Hangfire.Storage;

namespace FanOut.Hangfire.Tests.Units.Runs;

/// <summary>A run's record written and read back on a real storage connection, timestamps from a fake clock.</summary>
public sealed class RunStoreTests : IDisposable
{
    private const string RunId = "0195a1b2c3d4";
    private const string FanOutId = "nightly";
    private const string Event = "tenant/due";
    private static readonly string[] HandlerIds = ["send-email", "send-slack"];
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    private readonly InMemoryStorage _storage = UnitStorage.Create();
    private readonly JobStorageConnection _connection;
    private readonly UnitClock _clock = new();
    private readonly RunStore _runs;

    public RunStoreTests()
    {
        _connection = (JobStorageConnection)_storage.GetConnection();
        _runs = new RunStore(_clock);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _storage.Dispose();
    }

    [Fact]
    public void Pend_RecordsAPendingRun_ListedUnderItsNameAndWatched()
    {
        Write(t => _runs.Pend(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds));

        var record = _runs.Find(_connection, RunId);

        record.Should().BeEquivalentTo(new RunRecord(RunId, "cron", FanOutId, Event, "pending", HandlerIds, null, null, 0, 0, null, null, 0, TriggeredAt: UnitClock.T0, IsManualTrigger: true), o => o.ComparingByMembers<RunRecord>());
        Listed(FanOutId).Should().Equal(RunId);
        Watched().Should().Contain(RunId);
    }

    [Fact]
    public void Start_OfAPendingRun_RecordsTheStart_AndListsTheRunOnce()
    {
        Write(t => _runs.Pend(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds));
        var pending = _runs.Find(_connection, RunId);
        _clock.Advance(TimeSpan.FromSeconds(3));

        Write(t => _runs.Start(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds, pending));

        var record = _runs.Find(_connection, RunId)!;
        record.Status.Should().Be(RunRecord.Dispatching);
        record.DispatchStartedAt.Should().Be(UnitClock.T0 + TimeSpan.FromSeconds(3));
        record.IsManualTrigger.Should().BeTrue("the start keeps the mark of the trigger");
        Listed(FanOutId).Should().Equal([RunId], "the pending run was listed when it was triggered");
        Watched().Should().Contain(RunId);
    }

    [Fact]
    public void Start_OfARunNotSeenPending_ListsAndWatchesIt()
    {
        Write(t => _runs.Start(t, RunId, RunRecord.SendKind, Event, Event, HandlerIds));

        var record = _runs.Find(_connection, RunId)!;
        record.Should().BeEquivalentTo(new RunRecord(RunId, "send", Event, Event, "dispatching", HandlerIds, UnitClock.T0, null, 0, 0, null, null, 0, TriggeredAt: UnitClock.T0), o => o.ComparingByMembers<RunRecord>());
        Listed(Event).Should().Equal(RunId);
        Watched().Should().Contain(RunId);
    }

    [Fact]
    public void Start_ManyRuns_ListsTheNewestFirst_KeepingTheLast100()
    {
        var runIds = Enumerable.Range(1, RunStore.ListedRuns + 1).Select(i => $"run-{i:D3}").ToList();
        foreach (var runId in runIds)
        {
            Write(t => _runs.Start(t, runId, RunRecord.SendKind, Event, Event, HandlerIds));
        }

        var listed = RunStore.RecentRunIds(_connection, Event, 1_000);

        listed.Should().HaveCount(RunStore.ListedRuns);
        listed[0].Should().Be("run-101");
        listed[^1].Should().Be("run-002", "the oldest run fell off the list");
        RunStore.RecentRunIds(_connection, Event, 3).Should().Equal("run-101", "run-100", "run-099");
    }

    [Fact]
    public void WriteCheckpoint_IsReadBackAsTheRunsCheckpoint()
    {
        Write(t => _runs.Start(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds));

        Write(t => _runs.WriteCheckpoint(t, RunId, new DispatchCheckpoint(3_000_000_000, 6_000_000_000, "t-3")));

        var record = _runs.Find(_connection, RunId)!;
        record.Checkpoint.Should().Be(new DispatchCheckpoint(3_000_000_000, 6_000_000_000, "t-3"));
        record.Status.Should().Be(RunRecord.Dispatching, "a checkpoint changes only how far the dispatch got");
    }

    [Fact]
    public void FinishDispatch_RecordsTheStatusAndWhen()
    {
        Write(t => _runs.Start(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds));
        _clock.Advance(TimeSpan.FromSeconds(5));

        Write(t => _runs.FinishDispatch(t, RunId, RunRecord.Dispatched));

        var record = _runs.Find(_connection, RunId)!;
        record.Status.Should().Be(RunRecord.Dispatched);
        record.DispatchStartedAt.Should().Be(UnitClock.T0);
        record.DispatchFinishedAt.Should().Be(UnitClock.T0 + TimeSpan.FromSeconds(5));
        record.DispatchEnded.Should().BeTrue();
        Watched().Should().Contain(RunId, "the run is watched until its jobs end");
    }

    [Fact]
    public void Complete_CountsTheCompletion_TakesTheRunOffTheWatch_AndKeepsItsRecordForTheRetention()
    {
        Write(t =>
        {
            _runs.Start(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds);
            t.AddToSet(StorageKeys.Outcome(RunId, "send-email", "succeeded"), "1");
            t.AddToSet(StorageKeys.Outcome(RunId, "send-slack", "failed"), "2");
        });
        Write(t => _runs.FinishDispatch(t, RunId, RunRecord.Dispatched));
        _clock.Advance(TimeSpan.FromMinutes(1));

        Write(t => _runs.Complete(t, _runs.Find(_connection, RunId)!, Retention));

        var record = _runs.Find(_connection, RunId)!;
        record.Completions.Should().Be(1);
        record.CompletedAt.Should().Be(UnitClock.T0 + TimeSpan.FromMinutes(1));
        Watched().Should().NotContain(RunId);
        _connection.GetHashTtl(StorageKeys.Run(RunId)).Should().BeCloseTo(Retention, TimeSpan.FromMinutes(1));
        _connection.GetSetTtl(StorageKeys.Outcome(RunId, "send-email", "succeeded")).Should().BeCloseTo(Retention, TimeSpan.FromMinutes(1));
        _connection.GetSetTtl(StorageKeys.Outcome(RunId, "send-slack", "failed")).Should().BeCloseTo(Retention, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Complete_AgainAfterARetry_CountsTheSecondCompletion()
    {
        Write(t => _runs.Start(t, RunId, RunRecord.CronKind, FanOutId, Event, HandlerIds));
        Write(t => _runs.FinishDispatch(t, RunId, RunRecord.Dispatched));
        Write(t => _runs.Complete(t, _runs.Find(_connection, RunId)!, Retention));
        _clock.Advance(TimeSpan.FromHours(2));

        Write(t => _runs.Complete(t, _runs.Find(_connection, RunId)!, Retention));

        var record = _runs.Find(_connection, RunId)!;
        record.Completions.Should().Be(2);
        record.CompletedAt.Should().Be(UnitClock.T0 + TimeSpan.FromHours(2), "the record says when the run last completed");
    }

    [Fact]
    public void Skip_RecordsASkippedCronRun_ListedButNotWatched_ThatExpires()
    {
        Write(t => _runs.Skip(t, RunId, FanOutId, Event, Retention));

        var record = _runs.Find(_connection, RunId)!;
        record.Kind.Should().Be(RunRecord.CronKind);
        record.Name.Should().Be(FanOutId);
        record.EventName.Should().Be(Event);
        record.Status.Should().Be(RunRecord.Skipped);
        record.DispatchStartedAt.Should().Be(UnitClock.T0);
        record.DispatchFinishedAt.Should().Be(UnitClock.T0);
        record.HandlerIds.Should().BeEmpty();
        Listed(FanOutId).Should().Equal(RunId);
        Watched().Should().NotContain(RunId, "a skipped run has no jobs to wait for");
        _connection.GetHashTtl(StorageKeys.Run(RunId)).Should().BeCloseTo(Retention, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Find_OfARunNeverRecorded_IsNull() =>
        _runs.Find(_connection, "no-such-run").Should().BeNull();

    [Fact]
    public void Find_OfARecordWithUnreadableFields_ReadsThemAsDefaults()
    {
        Write(t => t.SetRangeInHash(StorageKeys.Run(RunId), new Dictionary<string, string>
        {
            [RunStore.StatusField] = RunRecord.Dispatched,
            [RunStore.HandlersField] = string.Empty,
            [RunStore.StartedField] = "yesterday",
            [RunStore.FinishedField] = string.Empty,
            [RunStore.ItemsField] = "lots",
            [RunStore.JobsField] = "1.5",
            [RunStore.CompletedField] = "2025-13-45",
            [RunStore.CompletionsField] = "twice",
        }));

        var record = _runs.Find(_connection, RunId);

        record.Should().BeEquivalentTo(new RunRecord(RunId, string.Empty, string.Empty, string.Empty, "dispatched", [], null, null, 0, 0, null, null, 0), o => o.ComparingByMembers<RunRecord>());
    }

    private void Write(Action<IWriteOnlyTransaction> write)
    {
        using var transaction = _connection.CreateWriteTransaction();
        write(transaction);
        transaction.Commit();
    }

    private List<string> Listed(string name) => _connection.GetRangeFromList(StorageKeys.RunList(name), 0, 1_000);

    private HashSet<string> Watched() => _connection.GetAllItemsFromSet(StorageKeys.OpenRuns);
}
