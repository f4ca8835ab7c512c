using System.Globalization;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Storage;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// Reads and writes run records, kept as Hangfire hashes, lists and sets so that every storage can hold them. The hash's
/// field names and values are a stored contract, like the keys in <see cref="StorageKeys"/>.
/// </summary>
internal sealed class RunStore(TimeProvider time)
{
    /// <summary>How many recent runs of each fan-out or event stay listed.</summary>
    public const int ListedRuns = 100;

    internal const string KindField = "Kind";
    internal const string NameField = "Name";
    internal const string EventField = "Event";
    internal const string StatusField = "Status";
    internal const string HandlersField = "Handlers";
    internal const string StartedField = "DispatchStartedAt";
    internal const string FinishedField = "DispatchFinishedAt";
    internal const string ItemsField = "DispatchedItems";
    internal const string JobsField = "DispatchedJobs";
    internal const string LastKeyField = "LastKey";
    internal const string CompletedField = "CompletedAt";
    internal const string CompletionsField = "Completions";
    internal const string TriggeredField = "TriggeredAt";
    internal const string ResumeRequestedField = "ResumeRequestedAt";
    internal const string CancelledField = "CancelledAt";
    internal const string SkipReasonField = "SkipReason";
    internal const string TriggerField = "Trigger";

    /// <summary>The <see cref="TriggerField"/> of a run started by a manual trigger (<c>IFanOutClient.TriggerAsync</c>).</summary>
    internal const string ManualTrigger = "manual";

    private static readonly string[] Outcomes = [RunOutcomesAttribute.Succeeded, RunOutcomesAttribute.Failed, RunOutcomesAttribute.Deleted];

    public RunRecord? Find(IStorageConnection connection, string runId)
    {
        var hash = connection.GetAllEntriesFromHash(StorageKeys.Run(runId));
        if (hash is null || hash.Count == 0)
        {
            return null;
        }

        var handlers = hash.GetValueOrDefault(HandlersField);
        var cancelledAt = ParseTime(hash.GetValueOrDefault(CancelledField));
        return new RunRecord(
            runId,
            hash.GetValueOrDefault(KindField) ?? string.Empty,
            hash.GetValueOrDefault(NameField) ?? string.Empty,
            hash.GetValueOrDefault(EventField) ?? string.Empty,
            cancelledAt is null ? hash.GetValueOrDefault(StatusField) ?? string.Empty : RunRecord.Cancelled,
            string.IsNullOrEmpty(handlers) ? [] : handlers.Split(','),
            ParseTime(hash.GetValueOrDefault(StartedField)),
            ParseTime(hash.GetValueOrDefault(FinishedField)),
            ParseLong(hash.GetValueOrDefault(ItemsField)),
            ParseLong(hash.GetValueOrDefault(JobsField)),
            hash.GetValueOrDefault(LastKeyField),
            ParseTime(hash.GetValueOrDefault(CompletedField)),
            (int)ParseLong(hash.GetValueOrDefault(CompletionsField)),
            ParseTime(hash.GetValueOrDefault(TriggeredField)),
            ParseTime(hash.GetValueOrDefault(ResumeRequestedField)),
            cancelledAt,
            hash.GetValueOrDefault(SkipReasonField),
            hash.GetValueOrDefault(TriggerField) == ManualTrigger);
    }

    /// <summary>
    /// Whether the run was cancelled, read from storage with one field: a dispatch asks before each chunk. A run whose
    /// record is gone (expired) is not.
    /// </summary>
    public static bool IsCancelled(IStorageConnection connection, string runId) =>
        !string.IsNullOrEmpty(connection is JobStorageConnection fields
            ? fields.GetValueFromHash(StorageKeys.Run(runId), CancelledField)
            : connection.GetAllEntriesFromHash(StorageKeys.Run(runId))?.GetValueOrDefault(CancelledField));

    /// <summary>
    /// Records the cancel: the run reads cancelled from now on, is put under watch to complete once its jobs end, and
    /// joins the set every process reads to learn of cancels.
    /// </summary>
    public void Cancel(IWriteOnlyTransaction transaction, string runId)
    {
        var now = time.GetUtcNow();
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string>
        {
            [StatusField] = RunRecord.Cancelled,
            [CancelledField] = Format(now),
        });
        transaction.AddToSet(StorageKeys.OpenRuns, runId);
        transaction.AddToSet(StorageKeys.CancelledRuns, runId, now.ToUnixTimeMilliseconds());
    }

    /// <summary>
    /// Records a triggered run whose dispatch job is not running yet, so that the run id a trigger returns can be read at
    /// once, marked as a manual trigger; lists it and puts it under watch, as <see cref="Start"/> does for a run it did not
    /// see pending.
    /// </summary>
    public void Pend(IWriteOnlyTransaction transaction, string runId, string kind, string name, string eventName, IEnumerable<string> handlerIds)
    {
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string>
        {
            [KindField] = kind,
            [NameField] = name,
            [EventField] = eventName,
            [StatusField] = RunRecord.Pending,
            [HandlersField] = string.Join(',', handlerIds),
            [TriggeredField] = Now(),
            [TriggerField] = ManualTrigger,
            [ItemsField] = "0",
            [JobsField] = "0",
        });
        List(transaction, runId, name);
        transaction.AddToSet(StorageKeys.OpenRuns, runId);
    }

    /// <summary>
    /// Records that a run's dispatch started, and when the run was triggered (now, unless given), which every later
    /// attempt of its dispatch reads back; a run not recorded as pending is also listed under its fan-out or event and
    /// put under watch for completion.
    /// </summary>
    public void Start(
        IWriteOnlyTransaction transaction,
        string runId,
        string kind,
        string name,
        string eventName,
        IEnumerable<string> handlerIds,
        RunRecord? pending = null,
        DateTimeOffset? triggeredAt = null)
    {
        var now = Now();
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string>
        {
            [KindField] = kind,
            [NameField] = name,
            [EventField] = eventName,
            [StatusField] = RunRecord.Dispatching,
            [HandlersField] = string.Join(',', handlerIds),
            [StartedField] = now,
            [TriggeredField] = triggeredAt is { } at ? Format(at) : now,
            [ItemsField] = "0",
            [JobsField] = "0",
        });
        if (pending?.Status != RunRecord.Pending)
        {
            List(transaction, runId, name);
        }

        transaction.AddToSet(StorageKeys.OpenRuns, runId);
    }

    public void WriteCheckpoint(IWriteOnlyTransaction transaction, string runId, DispatchCheckpoint checkpoint)
    {
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string>
        {
            [ItemsField] = checkpoint.Items.ToString(CultureInfo.InvariantCulture),
            [JobsField] = checkpoint.Jobs.ToString(CultureInfo.InvariantCulture),
            [LastKeyField] = checkpoint.LastKey ?? string.Empty,
        });
    }

    /// <summary>Records that a resume of the run's interrupted dispatch was asked for, and when.</summary>
    public void RequestResume(IWriteOnlyTransaction transaction, string runId) =>
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string> { [ResumeRequestedField] = Now() });

    /// <summary>Ends the dispatch; the run completes when its jobs end (the completion monitor sees to that).</summary>
    public void FinishDispatch(IWriteOnlyTransaction transaction, string runId, string status)
    {
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string>
        {
            [StatusField] = status,
            [FinishedField] = Now(),
        });
    }

    /// <summary>Records a cron firing that dispatched nothing, and why: <see cref="RunRecord.OverlapSkip"/> or <see cref="RunRecord.PausedSkip"/>.</summary>
    public void Skip(IWriteOnlyTransaction transaction, string runId, string name, string eventName, TimeSpan retention, string reason = RunRecord.OverlapSkip)
    {
        var now = Now();
        transaction.SetRangeInHash(StorageKeys.Run(runId), new Dictionary<string, string>
        {
            [KindField] = RunRecord.CronKind,
            [NameField] = name,
            [EventField] = eventName,
            [StatusField] = RunRecord.Skipped,
            [StartedField] = now,
            [FinishedField] = now,
            [SkipReasonField] = reason,
        });
        List(transaction, runId, name);
        if (transaction is JobStorageTransaction expiring)
        {
            expiring.ExpireHash(StorageKeys.Run(runId), retention);
        }
    }

    /// <summary>Marks one more completion, takes the run off the watch, and keeps its record for the retention from now.</summary>
    public void Complete(IWriteOnlyTransaction transaction, RunRecord record, TimeSpan retention)
    {
        transaction.SetRangeInHash(StorageKeys.Run(record.RunId), new Dictionary<string, string>
        {
            [CompletedField] = Now(),
            [CompletionsField] = (record.Completions + 1).ToString(CultureInfo.InvariantCulture),
        });
        transaction.RemoveFromSet(StorageKeys.OpenRuns, record.RunId);
        Expire(transaction, record, retention);
    }

    public static IReadOnlyList<string> RecentRunIds(IStorageConnection connection, string name, int count) =>
        connection is JobStorageConnection listing
            ? listing.GetRangeFromList(StorageKeys.RunList(name), 0, Math.Max(0, count - 1))
            : [];

    public static long Outcome(IStorageConnection connection, string runId, string handlerId, string outcome) =>
        connection is JobStorageConnection counting
            ? counting.GetSetCount(StorageKeys.Outcome(runId, handlerId, outcome))
            : connection.GetAllItemsFromSet(StorageKeys.Outcome(runId, handlerId, outcome))?.Count ?? 0;

    /// <summary>
    /// When the first of a handler's jobs waiting for a retry is due: the set's lowest-scored job, read from its state
    /// (the storage API gives no scores). A job that moved on in between is passed over for the next lowest.
    /// </summary>
    public static DateTimeOffset? NextRetryAt(IStorageConnection connection, string runId, string handlerId)
    {
        var key = StorageKeys.Outcome(runId, handlerId, RunOutcomesAttribute.Retrying);
        var passed = new HashSet<string>(StringComparer.Ordinal);
        for (var look = 0; look < 3; look++)
        {
            // A batch job is in the set once per item, all with the same score: members name their job.
            var member = connection is JobStorageConnection ranged
                ? ranged.GetFirstByLowestScoreFromSet(key, 0, double.MaxValue, look + 1).FirstOrDefault(id => !passed.Contains(OutcomeMembers.Parse(id).JobId))
                : connection.GetFirstByLowestScoreFromSet(key, 0, double.MaxValue);
            if (member is null)
            {
                return null;
            }

            var jobId = OutcomeMembers.Parse(member).JobId;
            var state = connection.GetStateData(jobId);
            if (state is not null && string.Equals(state.Name, ScheduledState.StateName, StringComparison.OrdinalIgnoreCase)
                && state.Data.TryGetValue("EnqueueAt", out var enqueueAt) && JobHelper.DeserializeNullableDateTime(enqueueAt) is { } due)
            {
                return new DateTimeOffset(DateTime.SpecifyKind(due, DateTimeKind.Utc));
            }

            passed.Add(jobId);
        }

        return null;
    }

    private static void List(IWriteOnlyTransaction transaction, string runId, string name)
    {
        transaction.InsertToList(StorageKeys.RunList(name), runId);
        transaction.TrimList(StorageKeys.RunList(name), 0, ListedRuns - 1);
    }

    // Every storage of Hangfire 1.8 derives its transactions from JobStorageTransaction; an older one keeps records.
    private static void Expire(IWriteOnlyTransaction transaction, RunRecord record, TimeSpan retention)
    {
        if (transaction is not JobStorageTransaction expiring)
        {
            return;
        }

        expiring.ExpireHash(StorageKeys.Run(record.RunId), retention);
        foreach (var handlerId in record.HandlerIds)
        {
            foreach (var outcome in Outcomes)
            {
                expiring.ExpireSet(StorageKeys.Outcome(record.RunId, handlerId, outcome), retention);
            }
        }
    }

    private string Now() => Format(time.GetUtcNow());

    private static string Format(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) ? parsed : null;

    private static long ParseLong(string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
}
