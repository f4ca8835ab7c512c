using System.Globalization;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// The overlap guard: at most one execution of a fan-out's dispatch holds its lease, across every server on the storage.
/// The lease names the execution holding it (<c>{runId}/{token}</c>), is renewed while it runs and with every chunk it
/// commits, and runs out otherwise, so a dispatcher that died frees it. Every other execution waits for it, another
/// execution of the same run included (Hangfire running the job again after a requeue or its invisibility timeout):
/// Hangfire aborts the older execution, which releases the lease, and the newer one reads the checkpoint only once it
/// holds the lease, so the two never dispatch the same chunk. After a crash, the retry waits for the lease to run out.
/// </summary>
internal sealed class DispatchLease(HangfireServices hangfire, FanOutRegistry registry, TimeProvider time)
{
    internal const string OwnerField = "Owner";
    internal const string ExpiresField = "ExpiresAt";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private TimeSpan Duration => registry.Options.DispatchLeaseDuration;

    /// <summary>A new owner name for one execution of a run's dispatch.</summary>
    public static string NewOwner(string runId) => $"{runId}/{Guid.NewGuid():N}";

    /// <summary>The run an owner name belongs to.</summary>
    public static string RunOf(string owner) => owner.Split('/')[0];

    /// <summary>Takes the lease for the execution, or returns the owner that holds it.</summary>
    public string? TryAcquire(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            var holder = Holder(connection, fanOutId);
            if (holder is not null && holder != owner)
            {
                return holder;
            }

            using var transaction = connection.CreateWriteTransaction();
            Renew(transaction, fanOutId, owner);
            transaction.Commit();
            return null;
        }
    }

    /// <summary>Waits for the lease until it is free or the wait runs out; returns the holder on time-out.</summary>
    public async Task<string?> AcquireAsync(string fanOutId, string owner, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            var holder = TryAcquire(fanOutId, owner);
            if (holder is null || time.GetUtcNow() >= deadline)
            {
                return holder;
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// For a new firing with <see cref="FanOutOverlap.BufferOne"/>: takes the lease when it is free, else takes the one
    /// waiting place and waits for the lease (it is handed over on release) until the wait runs out. Returns the holder
    /// and whether the firing is to be skipped: another firing already held the waiting place.
    /// </summary>
    public async Task<(string? Holder, bool Skip)> AcquireOrBufferAsync(string fanOutId, string owner, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        var (holder, buffered) = TryAcquireOrBuffer(fanOutId, owner);
        if (holder is null || !buffered)
        {
            return (holder, holder is not null);
        }

        try
        {
            while (true)
            {
                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
                (holder, _) = TryAcquireOrBuffer(fanOutId, owner);
                if (holder is null)
                {
                    return (null, false);
                }

                if (time.GetUtcNow() >= deadline)
                {
                    LeaveBuffer(fanOutId, owner);
                    return (holder, false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            LeaveBuffer(fanOutId, owner);
            throw;
        }
    }

    // Under the lease's lock: the lease if it is free and nobody else waits for it (or it was handed to this execution),
    // else the waiting place if it is free or already this execution's (renewed, so a waiter that died frees it).
    private (string? Holder, bool Buffered) TryAcquireOrBuffer(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            var holder = Holder(connection, fanOutId);
            var waiting = Live(ReadAt(connection, StorageKeys.LeaseBuffer(fanOutId)));
            using var transaction = connection.CreateWriteTransaction();
            if ((holder is null && (waiting is null || waiting == owner)) || holder == owner)
            {
                Renew(transaction, fanOutId, owner);
                if (waiting == owner)
                {
                    transaction.RemoveHash(StorageKeys.LeaseBuffer(fanOutId));
                }

                transaction.Commit();
                return (null, false);
            }

            if (waiting is not null && waiting != owner)
            {
                return (holder ?? waiting, false);
            }

            Write(transaction, StorageKeys.LeaseBuffer(fanOutId), owner);
            transaction.Commit();
            return (holder, true);
        }
    }

    private void LeaveBuffer(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            if (ReadAt(connection, StorageKeys.LeaseBuffer(fanOutId))?.Owner == owner)
            {
                using var transaction = connection.CreateWriteTransaction();
                transaction.RemoveHash(StorageKeys.LeaseBuffer(fanOutId));
                transaction.Commit();
            }
        }
    }

    /// <summary>Extends the lease inside a transaction that commits dispatch progress.</summary>
    public void Renew(IWriteOnlyTransaction transaction, string fanOutId, string owner) => Write(transaction, KeyOf(fanOutId), owner);

    private void Write(IWriteOnlyTransaction transaction, string key, string owner)
    {
        transaction.SetRangeInHash(key, new Dictionary<string, string>
        {
            [OwnerField] = owner,
            [ExpiresField] = (time.GetUtcNow() + Duration).ToString("O", CultureInfo.InvariantCulture),
        });
    }

    /// <summary>A guard for the chunk commits of one execution: each checks the lease is still its own, and renews it.</summary>
    public ICommitGuard GuardFor(string fanOutId, string owner) => new Guard(this, fanOutId, owner);

    /// <summary>Keeps the lease alive while a dispatch runs; cancels <paramref name="lost"/> if the lease stops being its own.</summary>
    public async Task KeepAsync(string fanOutId, string owner, CancellationTokenSource lost, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(Duration / 3, time, stop).ConfigureAwait(false);
                if (!RenewIfHeld(fanOutId, owner))
                {
                    await lost.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The dispatch ended.
        }
    }

    public void Release(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            if (OwnerOf(connection, fanOutId) != owner)
            {
                return;
            }

            // A firing waiting with Overlap = BufferOne gets the lease at once, before any new firing can take it.
            using var transaction = connection.CreateWriteTransaction();
            if (Live(ReadAt(connection, StorageKeys.LeaseBuffer(fanOutId))) is { } waiting)
            {
                Renew(transaction, fanOutId, waiting);
                transaction.RemoveHash(StorageKeys.LeaseBuffer(fanOutId));
            }
            else
            {
                transaction.RemoveHash(KeyOf(fanOutId));
            }

            transaction.Commit();
        }
    }

    private bool RenewIfHeld(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            if (OwnerOf(connection, fanOutId) != owner)
            {
                return false;
            }

            using var transaction = connection.CreateWriteTransaction();
            Renew(transaction, fanOutId, owner);
            transaction.Commit();
            return true;
        }
    }

    /// <summary>Throws the reason an execution no longer holds the lease (superseded, or lost); does nothing if it does.</summary>
    public void EnsureHeld(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        var current = OwnerOf(connection, fanOutId);
        if (current == owner)
        {
            return;
        }

        if (current is not null && RunOf(current) == RunOf(owner))
        {
            throw new DispatchSupersededException(
                $"Cron fan-out '{fanOutId}': this execution of run {RunOf(owner)} lost its lease to another execution of the same run, which carries on from the last checkpoint.");
        }

        throw new InvalidOperationException(
            $"Cron fan-out '{fanOutId}': run {RunOf(owner)} lost its dispatch lease and stopped; it resumes from its checkpoint when retried.");
    }

    private static string? OwnerOf(IStorageConnection connection, string fanOutId) =>
        connection.GetAllEntriesFromHash(KeyOf(fanOutId))?.GetValueOrDefault(OwnerField);

    /// <summary>Who holds a fan-out's lease and until when, expired or not; null when no lease was ever taken or it was released.</summary>
    public static DispatchLeaseState? Read(IStorageConnection connection, string fanOutId) => ReadAt(connection, KeyOf(fanOutId));

    private static DispatchLeaseState? ReadAt(IStorageConnection connection, string key)
    {
        var hash = connection.GetAllEntriesFromHash(key);
        if (hash is null || !hash.TryGetValue(OwnerField, out var owner) || string.IsNullOrEmpty(owner))
        {
            return null;
        }

        var expires = hash.TryGetValue(ExpiresField, out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
                ? parsed
                : DateTimeOffset.MinValue;
        return new DispatchLeaseState(owner, RunOf(owner), expires);
    }

    private string? Holder(IStorageConnection connection, string fanOutId) => Live(Read(connection, fanOutId));

    private string? Live(DispatchLeaseState? state) => state is not null && state.ExpiresAt > time.GetUtcNow() ? state.Owner : null;

    private static string KeyOf(string fanOutId) => StorageKeys.Lease(fanOutId);

    private static string LockOf(string fanOutId) => StorageKeys.LeaseLock(fanOutId);

    private sealed class Guard(DispatchLease lease, string fanOutId, string owner) : ICommitGuard
    {
        public void EnsureHeld() => lease.EnsureHeld(fanOutId, owner);

        public void Write(IWriteOnlyTransaction transaction) => lease.Renew(transaction, fanOutId, owner);
    }
}
