using System.Globalization;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Tests.Units.Dispatch;

/// <summary>The overlap guard of a cron fan-out, on an in-memory storage and a fake clock.</summary>
public sealed class DispatchLeaseTests : IDisposable
{
    private const string FanOutId = "billing/nightly";
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(30);

    private readonly UnitServices _units = new(configure: o => o.DispatchLeaseDuration = Duration);
    private readonly DispatchLease _lease;
    private readonly string _mine = DispatchLease.NewOwner("run-1");
    private readonly string _theirs = DispatchLease.NewOwner("run-2");

    public DispatchLeaseTests() => _lease = _units.Get<DispatchLease>();

    public void Dispose() => _units.Dispose();

    [Fact]
    public void NewOwner_NamesTheRunAndOneExecutionOfIt()
    {
        var first = DispatchLease.NewOwner("run-1");
        var second = DispatchLease.NewOwner("run-1");

        first.Should().StartWith("run-1/").And.NotBe(second);
        DispatchLease.RunOf(first).Should().Be("run-1");
    }

    [Fact]
    public void TryAcquire_AFreeLease_TakesItForADurationFromNow()
    {
        _lease.TryAcquire(FanOutId, _mine).Should().BeNull();

        Stored().Should().Be((_mine, UnitClock.T0 + Duration));
    }

    [Fact]
    public void TryAcquire_ByItsHolder_RenewsIt()
    {
        _lease.TryAcquire(FanOutId, _mine);
        _units.Clock.Advance(TimeSpan.FromSeconds(10));

        _lease.TryAcquire(FanOutId, _mine).Should().BeNull();

        Stored().Should().Be((_mine, UnitClock.T0 + TimeSpan.FromSeconds(10) + Duration));
    }

    [Fact]
    public void TryAcquire_WhileAnotherHoldsIt_ReturnsTheHolder_AndLeavesTheLease()
    {
        _lease.TryAcquire(FanOutId, _theirs);
        _units.Clock.Advance(Duration - TimeSpan.FromMilliseconds(1));

        _lease.TryAcquire(FanOutId, _mine).Should().Be(_theirs);

        Stored().Should().Be((_theirs, UnitClock.T0 + Duration));
    }

    [Fact]
    public void TryAcquire_OnceTheHoldersLeaseRanOut_TakesIt()
    {
        _lease.TryAcquire(FanOutId, _theirs);
        _units.Clock.Advance(Duration);

        _lease.TryAcquire(FanOutId, _mine).Should().BeNull("a dispatcher that died frees its lease once it runs out");

        Stored().Should().Be((_mine, UnitClock.T0 + Duration + Duration));
    }

    [Fact]
    public void TryAcquire_ALeaseWithAnUnreadableExpiry_TakesIt()
    {
        Write(new Dictionary<string, string> { [DispatchLease.OwnerField] = _theirs, [DispatchLease.ExpiresField] = "soon" });

        _lease.TryAcquire(FanOutId, _mine).Should().BeNull();
    }

    [Fact]
    public void TryAcquire_OfAnotherFanOut_IsNotHeldBack()
    {
        _lease.TryAcquire(FanOutId, _theirs);

        _lease.TryAcquire(FanOutId + "-eu", _mine).Should().BeNull();
        _lease.TryAcquire("billing.nightly", _mine).Should().BeNull();
    }

    [Fact]
    public void Renew_InATransaction_ExtendsTheLeaseFromNow()
    {
        _lease.TryAcquire(FanOutId, _mine);
        _units.Clock.Advance(TimeSpan.FromSeconds(25));

        using (var connection = _units.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            _lease.GuardFor(FanOutId, _mine).Write(transaction);
            transaction.Commit();
        }

        Stored().Should().Be((_mine, UnitClock.T0 + TimeSpan.FromSeconds(25) + Duration));
    }

    [Fact]
    public void Release_ByItsHolder_FreesTheLease()
    {
        _lease.TryAcquire(FanOutId, _theirs);

        _lease.Release(FanOutId, _theirs);

        Stored().Should().Be((null, null));
        _lease.TryAcquire(FanOutId, _mine).Should().BeNull();
    }

    [Fact]
    public void Release_ByAnotherOwner_LeavesTheLease()
    {
        _lease.TryAcquire(FanOutId, _theirs);

        _lease.Release(FanOutId, _mine);

        Stored().Should().Be((_theirs, UnitClock.T0 + Duration));
    }

    [Fact]
    public void EnsureHeld_ByItsHolder_DoesNotThrow()
    {
        _lease.TryAcquire(FanOutId, _mine);

        _lease.Invoking(l => l.EnsureHeld(FanOutId, _mine)).Should().NotThrow();
        _lease.GuardFor(FanOutId, _mine).Invoking(g => g.EnsureHeld()).Should().NotThrow();
    }

    [Fact]
    public void EnsureHeld_WhenAnotherExecutionOfTheSameRunTookTheLease_ThrowsSuperseded()
    {
        var newer = DispatchLease.NewOwner("run-1");
        _lease.TryAcquire(FanOutId, _mine);
        _units.Clock.Advance(Duration);
        _lease.TryAcquire(FanOutId, newer);

        _lease.Invoking(l => l.EnsureHeld(FanOutId, _mine))
            .Should().ThrowExactly<DispatchSupersededException>()
            .WithMessage($"Cron fan-out '{FanOutId}': this execution of run run-1 lost its lease to another execution of the same run*");
    }

    [Fact]
    public void EnsureHeld_WhenAnotherRunTookTheLease_ThrowsInvalidOperation()
    {
        _lease.TryAcquire(FanOutId, _mine);
        _units.Clock.Advance(Duration);
        _lease.TryAcquire(FanOutId, _theirs);

        _lease.GuardFor(FanOutId, _mine).Invoking(g => g.EnsureHeld())
            .Should().ThrowExactly<InvalidOperationException>()
            .WithMessage($"Cron fan-out '{FanOutId}': run run-1 lost its dispatch lease and stopped; it resumes from its checkpoint when retried.");
    }

    [Fact]
    public void EnsureHeld_WhenNobodyHoldsTheLease_ThrowsInvalidOperation()
    {
        _lease.Invoking(l => l.EnsureHeld(FanOutId, _mine))
            .Should().ThrowExactly<InvalidOperationException>()
            .WithMessage("*run run-1 lost its dispatch lease*");
    }

    [Fact]
    public async Task KeepAsync_RenewsTheLeaseEveryThirdOfItsDuration()
    {
        _lease.TryAcquire(FanOutId, _mine);
        using var lost = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();
        var keeping = _lease.KeepAsync(FanOutId, _mine, lost, stop.Token);

        // Each wait is a timer on the fake clock; the renewal after it runs on another thread, so wait for both.
        _units.Clock.TimerDueTimes.Should().Equal([Duration / 3], "the first renewal is due a third of the duration from now");
        _units.Clock.Advance(Duration / 3);
        await Eventually.HoldsAsync(() => ExpiresAt() == UnitClock.T0 + (Duration / 3) + Duration, () => $"the first renewal; expires at {ExpiresAt():O}");
        await Eventually.HoldsAsync(() => _units.Clock.TimerDueTimes.Count == 2, () => "the wait for the second renewal");
        _units.Clock.TimerDueTimes[1].Should().Be(Duration / 3);

        _units.Clock.Advance(Duration / 3);
        await Eventually.HoldsAsync(() => ExpiresAt() == UnitClock.T0 + (Duration * 2 / 3) + Duration, () => $"the second renewal; expires at {ExpiresAt():O}");

        await stop.CancelAsync();
        await keeping.WaitAsync(TimeSpan.FromSeconds(10));
        lost.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task KeepAsync_WhenAnotherOwnerTookTheLease_CancelsLost_AndLeavesTheirLease()
    {
        _lease.TryAcquire(FanOutId, _mine);
        using var lost = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();
        var keeping = _lease.KeepAsync(FanOutId, _mine, lost, stop.Token);

        // As after a pause longer than the lease: another execution found it run out and took it.
        Write(new Dictionary<string, string>
        {
            [DispatchLease.OwnerField] = _theirs,
            [DispatchLease.ExpiresField] = (UnitClock.T0 + TimeSpan.FromMinutes(5)).ToString("O", CultureInfo.InvariantCulture),
        });
        _units.Clock.Advance(Duration / 3);

        await keeping.WaitAsync(TimeSpan.FromSeconds(10));
        lost.IsCancellationRequested.Should().BeTrue();
        Stored().Should().Be((_theirs, UnitClock.T0 + TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task KeepAsync_Stopped_EndsQuietly_WithoutCancellingLost()
    {
        _lease.TryAcquire(FanOutId, _mine);
        using var lost = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();
        var keeping = _lease.KeepAsync(FanOutId, _mine, lost, stop.Token);

        await stop.CancelAsync();

        await keeping.Invoking(k => k.WaitAsync(TimeSpan.FromSeconds(10))).Should().NotThrowAsync();
        lost.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task AcquireAsync_WaitsForTheHolderToRelease_ThenTakesTheLease()
    {
        _lease.TryAcquire(FanOutId, _theirs);
        var acquiring = _lease.AcquireAsync(FanOutId, _mine, TimeSpan.FromMinutes(1), CancellationToken.None);
        acquiring.IsCompleted.Should().BeFalse();

        _lease.Release(FanOutId, _theirs);
        await AdvanceUntilAsync(acquiring);

        (await acquiring).Should().BeNull();
        Stored().Owner.Should().Be(_mine);
    }

    [Fact]
    public async Task AcquireAsync_WhenTheWaitRunsOut_ReturnsTheHolder()
    {
        var wait = TimeSpan.FromSeconds(3);
        _lease.TryAcquire(FanOutId, _theirs);

        var acquiring = _lease.AcquireAsync(FanOutId, _mine, wait, CancellationToken.None);
        await AdvanceUntilAsync(acquiring);

        (await acquiring).Should().Be(_theirs);
        _units.Clock.GetUtcNow().Should().BeOnOrAfter(UnitClock.T0 + wait, "it waited the whole wait");
        Stored().Owner.Should().Be(_theirs);
    }

    /// <summary>Moves the fake clock on in small steps until the task completes, as time would pass.</summary>
    private async Task AdvanceUntilAsync(Task task)
    {
        await Eventually.HoldsAsync(
            () =>
            {
                if (!task.IsCompleted)
                {
                    _units.Clock.Advance(TimeSpan.FromMilliseconds(100));
                }

                return task.IsCompleted;
            },
            () => $"the task to complete; the clock is at {_units.Clock.GetUtcNow():O}");
    }

    private (string? Owner, DateTimeOffset? ExpiresAt) Stored()
    {
        using var connection = _units.Storage.GetConnection();
        var hash = connection.GetAllEntriesFromHash(StorageKeys.Lease(FanOutId));
        return hash is null
            ? (null, null)
            : (hash.GetValueOrDefault(DispatchLease.OwnerField), DateTimeOffset.Parse(hash[DispatchLease.ExpiresField], CultureInfo.InvariantCulture));
    }

    private DateTimeOffset? ExpiresAt() => Stored().ExpiresAt;

    private void Write(Dictionary<string, string> lease)
    {
        using var connection = _units.Storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();
        transaction.SetRangeInHash(StorageKeys.Lease(FanOutId), lease);
        transaction.Commit();
    }
}
