using System.Globalization;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>Reads and writes run records, kept as Hangfire hashes so that every storage can hold them.</summary>
internal sealed class RunStore(TimeProvider time)
{
    private const string KindField = "Kind";
    private const string NameField = "Name";
    private const string EventField = "Event";
    private const string StatusField = "Status";
    private const string StartedField = "DispatchStartedAt";
    private const string FinishedField = "DispatchFinishedAt";
    private const string ItemsField = "DispatchedItems";
    private const string JobsField = "DispatchedJobs";
    private const string LastKeyField = "LastKey";

    public static string KeyOf(string runId) => "fanout:run:" + runId;

    public RunRecord? Find(IStorageConnection connection, string runId)
    {
        var hash = connection.GetAllEntriesFromHash(KeyOf(runId));
        if (hash is null || hash.Count == 0)
        {
            return null;
        }

        return new RunRecord(
            runId,
            hash.GetValueOrDefault(KindField) ?? string.Empty,
            hash.GetValueOrDefault(NameField) ?? string.Empty,
            hash.GetValueOrDefault(EventField) ?? string.Empty,
            hash.GetValueOrDefault(StatusField) ?? string.Empty,
            ParseTime(hash.GetValueOrDefault(StartedField)),
            ParseTime(hash.GetValueOrDefault(FinishedField)),
            ParseLong(hash.GetValueOrDefault(ItemsField)),
            ParseLong(hash.GetValueOrDefault(JobsField)),
            hash.GetValueOrDefault(LastKeyField));
    }

    public void Start(IWriteOnlyTransaction transaction, string runId, string kind, string name, string eventName)
    {
        transaction.SetRangeInHash(KeyOf(runId), new Dictionary<string, string>
        {
            [KindField] = kind,
            [NameField] = name,
            [EventField] = eventName,
            [StatusField] = RunRecord.Dispatching,
            [StartedField] = Now(),
            [ItemsField] = "0",
            [JobsField] = "0",
        });
    }

    public void WriteCheckpoint(IWriteOnlyTransaction transaction, string runId, DispatchCheckpoint checkpoint)
    {
        transaction.SetRangeInHash(KeyOf(runId), new Dictionary<string, string>
        {
            [ItemsField] = checkpoint.Items.ToString(CultureInfo.InvariantCulture),
            [JobsField] = checkpoint.Jobs.ToString(CultureInfo.InvariantCulture),
            [LastKeyField] = checkpoint.LastKey ?? string.Empty,
        });
    }

    public void Finish(IWriteOnlyTransaction transaction, string runId, string status, TimeSpan retention)
    {
        transaction.SetRangeInHash(KeyOf(runId), new Dictionary<string, string>
        {
            [StatusField] = status,
            [FinishedField] = Now(),
        });
        Expire(transaction, runId, retention);
    }

    public void Skip(IWriteOnlyTransaction transaction, string runId, string name, string eventName, TimeSpan retention)
    {
        transaction.SetRangeInHash(KeyOf(runId), new Dictionary<string, string>
        {
            [KindField] = RunRecord.CronKind,
            [NameField] = name,
            [EventField] = eventName,
            [StatusField] = RunRecord.Skipped,
            [FinishedField] = Now(),
        });
        Expire(transaction, runId, retention);
    }

    // Every storage of Hangfire 1.8 derives its transactions from JobStorageTransaction; an older one keeps records.
    private static void Expire(IWriteOnlyTransaction transaction, string runId, TimeSpan retention)
    {
        if (transaction is JobStorageTransaction expiring)
        {
            expiring.ExpireHash(KeyOf(runId), retention);
        }
    }

    private string Now() => time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) ? parsed : null;

    private static long ParseLong(string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
}
