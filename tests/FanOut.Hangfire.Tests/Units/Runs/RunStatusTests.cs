using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire.InMemory;
using Hangfire.Storage;

namespace FanOut.Hangfire.Tests.Units.Runs;

/// <summary>
/// Where a run stands, derived from its record and the outcome sets its jobs join: a run completes only once its
/// dispatch ended, every job is in a final state and the completion was recorded.
/// </summary>
public sealed class RunStatusTests : IDisposable
{
    private const string RunId = "0195a1b2c3d4";
    private const string Email = "send-email";
    private const string Slack = "send-slack";
    private static readonly DateTimeOffset Completed = UnitClock.T0 + TimeSpan.FromMinutes(2);

    private readonly InMemoryStorage _storage = UnitStorage.Create();
    private readonly IStorageConnection _connection;
    private int _nextJobId;

    public RunStatusTests() => _connection = _storage.GetConnection();

    public void Dispose()
    {
        _connection.Dispose();
        _storage.Dispose();
    }

    [Theory]
    [InlineData(RunRecord.Pending, FanOutRunStatus.Pending)]
    [InlineData(RunRecord.Dispatching, FanOutRunStatus.Dispatching)]
    [InlineData(RunRecord.Dispatched, FanOutRunStatus.Running)]
    [InlineData(RunRecord.Interrupted, FanOutRunStatus.Interrupted)]
    [InlineData(RunRecord.Skipped, FanOutRunStatus.Skipped)]
    [InlineData("a-status-of-a-later-version", FanOutRunStatus.Dispatching)]
    public void Status_WithJobsInFlight_FollowsTheRecordedStatus(string recorded, FanOutRunStatus status)
    {
        Outcomes(Email, succeeded: 1);

        Run(recorded, items: 3).Status.Should().Be(status);
    }

    [Fact]
    public void Status_OfADispatchedRun_EveryJobSucceededOrDeleted_AndCompletionRecorded_IsCompleted()
    {
        Outcomes(Email, succeeded: 2, deleted: 1);
        Outcomes(Slack, succeeded: 3);

        Run(RunRecord.Dispatched, items: 3, completedAt: Completed).Status.Should().Be(FanOutRunStatus.Completed, "a deleted job is not a failure");
    }

    [Fact]
    public void Status_OfADispatchedRun_WithAFailedJob_AndCompletionRecorded_IsCompletedWithFailures()
    {
        Outcomes(Email, succeeded: 3);
        Outcomes(Slack, succeeded: 2, failed: 1);

        Run(RunRecord.Dispatched, items: 3, completedAt: Completed).Status.Should().Be(FanOutRunStatus.CompletedWithFailures);
    }

    [Fact]
    public void Status_OfADispatchedRun_EveryJobEnded_ButNoCompletionRecordedYet_IsRunning()
    {
        Outcomes(Email, succeeded: 3);
        Outcomes(Slack, succeeded: 3);

        Run(RunRecord.Dispatched, items: 3).Status.Should().Be(FanOutRunStatus.Running, "the completion handler has not been enqueued yet");
    }

    [Fact]
    public void Status_OfACompletedRun_OneOfWhoseJobsWasRetried_IsRunningAgain()
    {
        // The retried job left the failed set: the run completed once and is open again.
        Outcomes(Email, succeeded: 3);
        Outcomes(Slack, succeeded: 2);

        Run(RunRecord.Dispatched, items: 3, completedAt: Completed).Status.Should().Be(FanOutRunStatus.Running);
    }

    [Fact]
    public void Status_OfARunStillDispatching_WhoseJobsSoFarEnded_IsDispatching()
    {
        Outcomes(Email, succeeded: 3);
        Outcomes(Slack, succeeded: 3);

        Run(RunRecord.Dispatching, items: 3, completedAt: Completed).Status.Should().Be(FanOutRunStatus.Dispatching, "more jobs may still come");
    }

    [Theory]
    [InlineData(0, FanOutRunStatus.Completed)]
    [InlineData(1, FanOutRunStatus.CompletedWithFailures)]
    public void Status_OfAnInterruptedSend_WhoseJobsEnded_CompletesWithTheItemsSentBefore(int failed, FanOutRunStatus status)
    {
        Outcomes(Email, succeeded: 2 - failed, failed: failed);
        Outcomes(Slack, succeeded: 2);

        Run(RunRecord.Interrupted, items: 2, completedAt: Completed, kind: RunRecord.SendKind).Status.Should().Be(status);
    }

    [Fact]
    public void Status_OfASkippedRun_StaysSkipped_WhateverElseIsRecorded() =>
        Run(RunRecord.Skipped, items: 0, completedAt: Completed).Status.Should().Be(FanOutRunStatus.Skipped);

    [Fact]
    public void ToRun_CountsEachHandlersOutcomes_FromItsOwnSets()
    {
        Outcomes(Email, succeeded: 2, failed: 1);
        Outcomes(Slack, succeeded: 1, deleted: 1);

        var run = Run(RunRecord.Dispatched, items: 4, kind: RunRecord.SendKind);

        run.Kind.Should().Be(FanOutRunKind.Send);
        run.DispatchedItems.Should().Be(4);
        run.Handlers.Select(h => (h.HandlerId, h.Dispatched, h.Succeeded, h.Failed, h.Deleted, h.InFlight))
            .Should().Equal((Email, 4L, 2L, 1L, 0L, 1L), (Slack, 4L, 1L, 0L, 1L, 2L));
        (run.DispatchedJobs, run.Succeeded, run.Failed, run.Deleted, run.InFlight).Should().Be((8L, 3L, 1L, 1L, 3L));
    }

    [Fact]
    public void ToRun_OfACronRun_CarriesItsRecord()
    {
        var record = Record(RunRecord.Dispatched, items: 0, completedAt: Completed) with
        {
            DispatchStartedAt = UnitClock.T0,
            DispatchFinishedAt = UnitClock.T0 + TimeSpan.FromSeconds(30),
            Completions = 2,
        };

        var run = FanOutRuns.ToRun(_connection, record);

        run.Kind.Should().Be(FanOutRunKind.Cron);
        (run.RunId, run.Name, run.EventName).Should().Be((RunId, "nightly", "tenant/due"));
        run.DispatchDuration.Should().Be(TimeSpan.FromSeconds(30));
        run.CompletedAt.Should().Be(Completed);
        run.Completions.Should().Be(2);
        run.Status.Should().Be(FanOutRunStatus.Completed, "a run of no items completes once its dispatch ended");
    }

    private FanOutRun Run(string status, long items, DateTimeOffset? completedAt = null, string kind = RunRecord.CronKind) =>
        FanOutRuns.ToRun(_connection, Record(status, items, completedAt, kind));

    private static RunRecord Record(string status, long items, DateTimeOffset? completedAt = null, string kind = RunRecord.CronKind) =>
        new(RunId, kind, "nightly", "tenant/due", status, [Email, Slack], UnitClock.T0, null, items, items * 2, "t-last", completedAt, completedAt is null ? 0 : 1);

    /// <summary>Puts as many job ids into the handler's outcome sets as the run accounting would.</summary>
    private void Outcomes(string handlerId, int succeeded = 0, int failed = 0, int deleted = 0)
    {
        using var transaction = _connection.CreateWriteTransaction();
        foreach (var (outcome, count) in new[] { ("succeeded", succeeded), ("failed", failed), ("deleted", deleted) })
        {
            for (var i = 0; i < count; i++)
            {
                transaction.AddToSet(StorageKeys.Outcome(RunId, handlerId, outcome), (++_nextJobId).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        transaction.Commit();
    }
}
