using Hangfire.Storage;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The part of the fast path's write transactions that is the same for a dispatched chunk and a batch of state changes:
/// writes to hashes, counters and sets are recorded as <see cref="StorageWrite"/>s, in the order they were made, and the
/// writes it does not make (lists, whole sets) mark the transaction unsupported, so its commit sends nothing.
/// </summary>
internal abstract class RecordingTransaction : JobStorageTransaction
{
    /// <summary>Keeps a write for the commit.</summary>
    protected abstract void Record(StorageWrite write);

    /// <summary>Marks the transaction as holding a write the fast path does not make; its commit then throws <see cref="UnsupportedWriteException"/>.</summary>
    protected abstract void MarkUnsupported(string operation);

    public override void SetRangeInHash(string key, IEnumerable<KeyValuePair<string, string>> keyValuePairs)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyValuePairs);
        Record(HashFieldsWrite.Of(key, keyValuePairs));
    }

    public override void RemoveHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Record(new HashRemoveWrite(key));
    }

    // Hangfire.PostgreSql computes a hash's expiry on the client's clock.
    public override void ExpireHash(string key, TimeSpan expireIn)
    {
        ArgumentNullException.ThrowIfNull(key);
        Record(new HashExpiryWrite(key, DateTime.UtcNow.Add(expireIn)));
    }

    public override void PersistHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Record(new HashExpiryWrite(key, null));
    }

    public override void IncrementCounter(string key) => Record(new CounterWrite(key, +1, null));

    public override void IncrementCounter(string key, TimeSpan expireIn) => Record(new CounterWrite(key, +1, (long)expireIn.TotalSeconds));

    public override void DecrementCounter(string key) => Record(new CounterWrite(key, -1, null));

    public override void DecrementCounter(string key, TimeSpan expireIn) => Record(new CounterWrite(key, -1, (long)expireIn.TotalSeconds));

    public override void AddToSet(string key, string value) => AddToSet(key, value, 0.0);

    public override void AddToSet(string key, string value, double score) => Record(new SetAddWrite(key, value, score));

    public override void RemoveFromSet(string key, string value) => Record(new SetRemoveWrite(key, value));

    public override void InsertToList(string key, string value) => MarkUnsupported(nameof(InsertToList));

    public override void RemoveFromList(string key, string value) => MarkUnsupported(nameof(RemoveFromList));

    public override void TrimList(string key, int keepStartingFrom, int keepEndingAt) => MarkUnsupported(nameof(TrimList));

    public override void ExpireSet(string key, TimeSpan expireIn) => MarkUnsupported(nameof(ExpireSet));

    public override void ExpireList(string key, TimeSpan expireIn) => MarkUnsupported(nameof(ExpireList));

    public override void PersistSet(string key) => MarkUnsupported(nameof(PersistSet));

    public override void PersistList(string key) => MarkUnsupported(nameof(PersistList));

    public override void AddRangeToSet(string key, IList<string> items) => MarkUnsupported(nameof(AddRangeToSet));

    public override void RemoveSet(string key) => MarkUnsupported(nameof(RemoveSet));
}
