using System.Globalization;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// The overlap guard: at most one dispatch of a fan-out holds its lease, across every server on the storage. The lease
/// names the execution holding it (<c>{runId}/{token}</c>) and runs out unless renewed, so a dispatcher that died frees
/// it. An execution of the same run takes it over at once (a retry after a crash, or Hangfire running the job again
/// after its invisibility timeout); the execution it supersedes finds out at its next commit and stops, because every
/// chunk commits under the lease's lock after checking the lease is still its own.
/// </summary>
internal sealed class DispatchLease(HangfireServices hangfire, FanOutRegistry registry, TimeProvider time)
{
    private const string OwnerField = "Owner";
    private const string ExpiresField = "ExpiresAt";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private TimeSpan Duration => registry.Options.DispatchLeaseDuration;

    /// <summary>A new owner name for one execution of a run's dispatch.</summary>
    public static string NewOwner(string runId) => $"{runId}/{Guid.NewGuid():N}";

    /// <summary>The run an owner name belongs to.</summary>
    public static string RunOf(string owner) => owner.Split('/')[0];

    /// <summary>Takes the lease for the execution, or returns the owner of another run that holds it.</summary>
    public string? TryAcquire(string fanOutId, string owner)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            var holder = Holder(connection, fanOutId);
            if (holder is not null && RunOf(holder) != RunOf(owner))
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

    /// <summary>Extends the lease inside a transaction that commits dispatch progress.</summary>
    public void Renew(IWriteOnlyTransaction transaction, string fanOutId, string owner)
    {
        transaction.SetRangeInHash(KeyOf(fanOutId), new Dictionary<string, string>
        {
            [OwnerField] = owner,
            [ExpiresField] = (time.GetUtcNow() + Duration).ToString("O", CultureInfo.InvariantCulture),
        });
    }

    /// <summary>A guard for the chunk commits of one execution: each commits under the lease's lock, only while the lease is its own.</summary>
    public ICommitGuard GuardFor(string fanOutId, string owner) => new Guard(this, fanOutId, owner);

    /// <summary>Throws the reason an execution no longer holds the lease (superseded, or lost); does nothing if it does.</summary>
    public void ThrowIfNotHeld(string fanOutId, string owner) => Hold(fanOutId, owner).Dispose();

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

            using var transaction = connection.CreateWriteTransaction();
            transaction.RemoveHash(KeyOf(fanOutId));
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

    private IDisposable Hold(string fanOutId, string owner)
    {
        var connection = hangfire.Storage.GetConnection();
        try
        {
            var held = connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout);
            var current = OwnerOf(connection, fanOutId);
            if (current != owner)
            {
                held.Dispose();
                if (current is not null && RunOf(current) == RunOf(owner))
                {
                    throw new DispatchSupersededException(
                        $"Cron fan-out '{fanOutId}': this execution of run {RunOf(owner)} was superseded by another execution of the same run (a retry, or Hangfire running the job again), which carries on from the last checkpoint.");
                }

                throw new InvalidOperationException(
                    $"Cron fan-out '{fanOutId}': run {RunOf(owner)} lost its dispatch lease and stopped; it resumes from its checkpoint when retried.");
            }

            return new Held(held, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static string? OwnerOf(IStorageConnection connection, string fanOutId) =>
        connection.GetAllEntriesFromHash(KeyOf(fanOutId))?.GetValueOrDefault(OwnerField);

    private string? Holder(IStorageConnection connection, string fanOutId)
    {
        var hash = connection.GetAllEntriesFromHash(KeyOf(fanOutId));
        if (hash is null || !hash.TryGetValue(OwnerField, out var owner) || string.IsNullOrEmpty(owner))
        {
            return null;
        }

        var expires = hash.TryGetValue(ExpiresField, out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
                ? parsed
                : DateTimeOffset.MinValue;
        return expires > time.GetUtcNow() ? owner : null;
    }

    private static string KeyOf(string fanOutId) => "fanout:lease:" + fanOutId;

    private static string LockOf(string fanOutId) => "fanout:lease-lock:" + fanOutId;

    private sealed class Guard(DispatchLease lease, string fanOutId, string owner) : ICommitGuard
    {
        public IDisposable Enter() => lease.Hold(fanOutId, owner);

        public void Write(IWriteOnlyTransaction transaction) => lease.Renew(transaction, fanOutId, owner);
    }

    private sealed class Held(IDisposable distributedLock, IStorageConnection connection) : IDisposable
    {
        public void Dispose()
        {
            distributedLock.Dispose();
            connection.Dispose();
        }
    }
}
