using System.Globalization;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// What is paused through the API, as stored: the set <see cref="StorageKeys.Paused"/> of members (<c>cron:{id}</c>,
/// <c>handler:{id}</c>), read whole in one call, and for each member a hash with when it was paused. Changes are made
/// under <see cref="StorageKeys.PauseLock"/>, so a second pause keeps the first one's time.
/// </summary>
internal sealed class PauseStore(HangfireServices hangfire, TimeProvider time)
{
    internal const string PausedAtField = "PausedAt";

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Every member of the paused set: one storage call.</summary>
    public static IReadOnlySet<string> Members(IStorageConnection connection) =>
        connection.GetAllItemsFromSet(StorageKeys.Paused) ?? [];

    public static DateTimeOffset? PausedAt(IStorageConnection connection, string member) =>
        DateTimeOffset.TryParse(
            connection.GetAllEntriesFromHash(StorageKeys.Pause(member))?.GetValueOrDefault(PausedAtField),
            CultureInfo.InvariantCulture,
            DateTimeStyles.RoundtripKind,
            out var at)
            ? at
            : null;

    /// <summary>Pauses <paramref name="member"/>; returns since when it is paused (the first pause's time, if it already was).</summary>
    public DateTimeOffset Pause(string member)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(StorageKeys.PauseLock, LockTimeout))
        {
            if (Members(connection).Contains(member) && PausedAt(connection, member) is { } since)
            {
                return since;
            }

            var now = time.GetUtcNow();
            using var transaction = connection.CreateWriteTransaction();
            transaction.SetRangeInHash(StorageKeys.Pause(member), new Dictionary<string, string>
            {
                [PausedAtField] = now.ToString("O", CultureInfo.InvariantCulture),
            });
            transaction.AddToSet(StorageKeys.Paused, member);
            transaction.Commit();
            return now;
        }
    }

    /// <summary>Lifts the stored pause of <paramref name="member"/>; returns whether there was one.</summary>
    public bool Resume(string member)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (connection.AcquireDistributedLock(StorageKeys.PauseLock, LockTimeout))
        {
            if (!Members(connection).Contains(member))
            {
                return false;
            }

            using var transaction = connection.CreateWriteTransaction();
            transaction.RemoveFromSet(StorageKeys.Paused, member);
            transaction.RemoveHash(StorageKeys.Pause(member));
            transaction.Commit();
            return true;
        }
    }
}
