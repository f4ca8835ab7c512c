using System.Globalization;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// The overlap guard: at most one dispatch of a fan-out holds its lease, across every server on the storage. A lease
/// names the run holding it and runs out unless renewed, so a dispatcher that died frees it; a retry of the same run
/// takes its own lease back at once.
/// </summary>
internal sealed class DispatchLease(HangfireServices hangfire, FanOutRegistry registry, TimeProvider time)
{
    private const string OwnerField = "Owner";
    private const string ExpiresField = "ExpiresAt";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private TimeSpan Duration => registry.Options.DispatchLeaseDuration;

    /// <summary>Takes the lease for the run, or returns the run id that holds it.</summary>
    public string? TryAcquire(string fanOutId, string runId)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            var holder = Holder(connection, fanOutId);
            if (holder is not null && holder != runId)
            {
                return holder;
            }

            using var transaction = connection.CreateWriteTransaction();
            Renew(transaction, fanOutId, runId);
            transaction.Commit();
            return null;
        }
    }

    /// <summary>Waits for the lease until it is free or the wait runs out; returns the holder on time-out.</summary>
    public async Task<string?> AcquireAsync(string fanOutId, string runId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            var holder = TryAcquire(fanOutId, runId);
            if (holder is null || time.GetUtcNow() >= deadline)
            {
                return holder;
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Extends the lease inside a transaction that commits dispatch progress.</summary>
    public void Renew(IWriteOnlyTransaction transaction, string fanOutId, string runId)
    {
        transaction.SetRangeInHash(KeyOf(fanOutId), new Dictionary<string, string>
        {
            [OwnerField] = runId,
            [ExpiresField] = (time.GetUtcNow() + Duration).ToString("O", CultureInfo.InvariantCulture),
        });
    }

    /// <summary>Extends the lease if the run still holds it; false means another run took it over.</summary>
    public bool RenewIfHeld(string fanOutId, string runId)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            var owner = OwnerOf(connection, fanOutId);
            if (owner != runId)
            {
                return false;
            }

            using var transaction = connection.CreateWriteTransaction();
            Renew(transaction, fanOutId, runId);
            transaction.Commit();
            return true;
        }
    }

    /// <summary>Keeps the lease alive while a dispatch runs; cancels <paramref name="lost"/> if another run takes it.</summary>
    public async Task KeepAsync(string fanOutId, string runId, CancellationTokenSource lost, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(Duration / 3, time, stop).ConfigureAwait(false);
                if (!RenewIfHeld(fanOutId, runId))
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

    public void Release(string fanOutId, string runId)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(LockOf(fanOutId), LockTimeout))
        {
            if (OwnerOf(connection, fanOutId) != runId)
            {
                return;
            }

            using var transaction = connection.CreateWriteTransaction();
            transaction.RemoveHash(KeyOf(fanOutId));
            transaction.Commit();
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
}
