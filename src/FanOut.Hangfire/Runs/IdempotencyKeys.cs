using System.Globalization;
using System.Text;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// The idempotency keys of sends and triggers: one hash per key (<see cref="StorageKeys.Idempotency"/>) naming the run
/// the key started and when, written in the transaction that records the run, so a key never points at no run and a
/// run sent with a key is never without it. Read and written under the key's distributed lock, since Hangfire's storage
/// API has no compare-and-set: of many racing sends, the first to take the lock records its run and the others read it.
/// </summary>
internal sealed class IdempotencyKeys(FanOutRegistry registry, TimeProvider time)
{
    internal const string RunIdField = "RunId";
    internal const string CreatedField = "CreatedAt";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private TimeSpan Window => registry.Options.IdempotencyWindow;

    /// <summary>Throws <see cref="ArgumentException"/> for <paramref name="paramName"/> when a key cannot be stored.</summary>
    public static void Check(string? key, string paramName)
    {
        if (key is not null && Problem(key) is { } problem)
        {
            throw new ArgumentException($"The idempotency key {Quote(key)} (FanOutSendOptions.IdempotencyKey) {problem}", paramName);
        }
    }

    /// <summary>Why a key cannot be used, or null when it can.</summary>
    public static string? Problem(string key)
    {
        if (key.Length == 0)
        {
            return "is empty; leave it null for a send without one.";
        }

        if (key.Length > FanOutSendOptions.MaxIdempotencyKeyLength)
        {
            return $"has {key.Length} characters; at most {FanOutSendOptions.MaxIdempotencyKeyLength} are allowed.";
        }

        if (string.IsNullOrWhiteSpace(key))
        {
            return "is only white space.";
        }

        for (var i = 0; i < key.Length; i++)
        {
            if (char.IsControl(key[i]))
            {
                return $"contains the control character U+{(int)key[i]:X4} at position {i}, which storages cannot hold in a key.";
            }

            if (char.IsSurrogate(key[i]) && !(char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[++i])))
            {
                return $"contains a lone surrogate at position {i}, which is not valid Unicode text.";
            }
        }

        return null;
    }

    /// <summary>Takes the key's lock, held until disposed; a racing send with the same key waits for it.</summary>
    public static IDisposable Lock(IStorageConnection connection, string name, string key) =>
        connection.AcquireDistributedLock(StorageKeys.IdempotencyLock(name, key), LockTimeout);

    /// <summary>The run the key started within the window, or null when the key is free (never used, or used longer ago).</summary>
    public string? Find(IStorageConnection connection, string name, string key)
    {
        var hash = connection.GetAllEntriesFromHash(StorageKeys.Idempotency(name, key));
        if (hash is null || !hash.TryGetValue(RunIdField, out var runId) || string.IsNullOrEmpty(runId))
        {
            return null;
        }

        // The storage expires the hash, but lazily (Hangfire.PostgreSql every 30 minutes): the window is kept exactly here.
        var created = DateTimeOffset.TryParse(hash.GetValueOrDefault(CreatedField), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? at
            : DateTimeOffset.MinValue;
        return created + Window > time.GetUtcNow() ? runId : null;
    }

    /// <summary>Records that the key started <paramref name="runId"/>, in the transaction that records the run.</summary>
    public void Write(IWriteOnlyTransaction transaction, string name, string key, string runId)
    {
        var hashKey = StorageKeys.Idempotency(name, key);
        transaction.SetRangeInHash(hashKey, new Dictionary<string, string>
        {
            [RunIdField] = runId,
            [CreatedField] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });
        if (transaction is JobStorageTransaction expiring)
        {
            expiring.ExpireHash(hashKey, Window);
        }
    }

    /// <summary>Frees the key if it still names <paramref name="runId"/>, a send that stored nothing; under the key's lock.</summary>
    public void Forget(IStorageConnection connection, IWriteOnlyTransaction transaction, string name, string key, string runId)
    {
        if (connection.GetAllEntriesFromHash(StorageKeys.Idempotency(name, key))?.GetValueOrDefault(RunIdField) == runId)
        {
            transaction.RemoveHash(StorageKeys.Idempotency(name, key));
        }
    }

    private static string Quote(string key)
    {
        var shown = key.Length > 40 ? key[..40] + "…" : key;
        var text = new StringBuilder("'");
        foreach (var c in shown)
        {
            text.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return text.Append('\'').ToString();
    }
}
