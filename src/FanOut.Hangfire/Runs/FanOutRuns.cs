using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Storage;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// Reads runs through Hangfire's storage API. That API is synchronous, so the reads complete before the returned task
/// does; the token is checked before each storage call, so a cancelled read stops between calls and throws.
/// </summary>
internal sealed class FanOutRuns(HangfireServices hangfire, RunStore runs, LimitStatusReader limits, RunCancellation cancellation) : IFanOutRuns
{
    public Task<IReadOnlyList<FanOutLimitStatus>> GetLimitsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        return Task.FromResult(limits.Read(connection, cancellationToken));
    }

    public Task<IReadOnlyList<FanOutRun>> ListAsync(string name, int count = 20, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        var found = new List<FanOutRun>();
        foreach (var runId in RunStore.RecentRunIds(connection, name, count))
        {
            if (Read(connection, runId, cancellationToken) is { } run)
            {
                found.Add(run);
            }
        }

        return Task.FromResult<IReadOnlyList<FanOutRun>>(found);
    }

    public Task<FanOutRun?> GetAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        return Task.FromResult(Read(connection, runId, cancellationToken));
    }

    public Task<IReadOnlyList<FanOutFailedItem>> GetFailedItemsAsync(string runId, int count = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        return Task.FromResult(FailedItems(connection, runId, count, cancellationToken));
    }

    public Task<int> RetryFailedAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        cancellationToken.ThrowIfCancellationRequested();
        List<string> jobIds;
        using (var connection = hangfire.Storage.GetConnection())
        {
            // A cancelled run's jobs would be deleted as they were requeued: its failed items stay as they are.
            jobIds = runs.Find(connection, runId) is { IsCancelled: false } record ? FailedJobIds(connection, record, int.MaxValue) : [];
        }

        return Task.FromResult(Requeue(runId, jobIds, cancellationToken));
    }

    public Task<FanOutBulkRetryResult> RetryFailedRunsAsync(string name, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (to < from)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, $"The end of the range ({to:O}) is before its start ({from:O}).");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var failed = new List<(string RunId, List<string> JobIds)>();
        using (var connection = hangfire.Storage.GetConnection())
        {
            foreach (var runId in RunStore.RecentRunIds(connection, name, RunStore.ListedRuns))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (runs.Find(connection, runId) is { } record && (record.TriggeredAt ?? record.DispatchStartedAt) is { } started && started >= from && started < to)
                {
                    failed.Add((runId, FailedJobIds(connection, record, int.MaxValue)));
                }
            }
        }

        var (retried, requeued) = (0, 0);
        foreach (var (runId, jobIds) in failed)
        {
            var count = Requeue(runId, jobIds, cancellationToken);
            retried += count > 0 ? 1 : 0;
            requeued += count;
        }

        return Task.FromResult(new FanOutBulkRetryResult(failed.Count, retried, requeued));
    }

    private int Requeue(string runId, List<string> jobIds, CancellationToken cancellationToken)
    {
        var requeued = 0;
        foreach (var jobId in jobIds)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Only a job still Failed is requeued, so two concurrent retries requeue each job once. Under a limit the job may
            // wait for a slot instead of being enqueued: it was requeued all the same.
            if (hangfire.ChangeState(jobId, new EnqueuedState { Reason = $"Failed items of run {runId} retried" }, FailedState.StateName) is not null)
            {
                requeued++;
            }
        }

        return requeued;
    }

    public Task<FanOutCancelResult> CancelAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(cancellation.Cancel(runId, cancellationToken));
    }

    public Task<IReadOnlyList<FanOutJobLog>> GetJobLogAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        return Task.FromResult(ItemJobCodec.Instance.TryRead(connection.GetJobData(jobId)?.Job, out _)
            ? JobLogReader.All(connection, jobId, cancellationToken)
            : []);
    }

    internal FanOutRun? Read(IStorageConnection connection, string runId, CancellationToken cancellationToken = default)
    {
        var record = runs.Find(connection, runId);
        return record is null ? null : ToRun(connection, record, cancellationToken);
    }

    /// <summary>
    /// The run with its counts. <paramref name="retries"/> false leaves out the jobs waiting for a retry (read as 0),
    /// for the completion monitor, which polls every open run and needs only what is in flight: a read fewer a handler,
    /// and three while some of its jobs wait for a retry.
    /// </summary>
    internal static FanOutRun ToRun(IStorageConnection connection, RunRecord record, CancellationToken cancellationToken = default, bool retries = true)
    {
        var handlers = new List<FanOutHandlerProgress>(record.HandlerIds.Count);
        foreach (var handlerId in record.HandlerIds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var retrying = retries ? RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Retrying) : 0;
            handlers.Add(new FanOutHandlerProgress(
                handlerId,
                record.DispatchedItems,
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Succeeded),
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Failed),
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Deleted),
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Waiting),
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Paused),
                retrying,
                retrying > 0 ? RunStore.NextRetryAt(connection, record.RunId, handlerId) : null));
        }

        return new FanOutRun(
            record.RunId,
            record.Kind == RunRecord.SendKind ? FanOutRunKind.Send : FanOutRunKind.Cron,
            record.Name,
            record.EventName,
            StatusOf(record, handlers),
            record.DispatchStartedAt,
            record.DispatchFinishedAt,
            record.CompletedAt,
            record.Completions,
            record.DispatchedItems,
            handlers,
            record.SkipReason)
        {
            TriggeredAt = record.TriggeredAt,
            IsManualTrigger = record.IsManualTrigger,
        };
    }

    internal IReadOnlyList<FanOutFailedItem> FailedItems(IStorageConnection connection, string runId, int count, CancellationToken cancellationToken = default)
    {
        var items = new List<FanOutFailedItem>();
        var record = runs.Find(connection, runId);
        foreach (var jobId in record is null ? [] : FailedJobIds(connection, record, count))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ItemJobCodec.Instance.TryRead(connection.GetJobData(jobId)?.Job, out var job))
            {
                continue;
            }

            var state = connection.GetStateData(jobId);
            var data = new Dictionary<string, string>(state?.Data ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
            items.Add(new FanOutFailedItem(
                job.HandlerId,
                job.ItemKey,
                jobId,
                data.GetValueOrDefault("ExceptionType"),
                data.GetValueOrDefault("ExceptionMessage"),
                ParseFailedAt(data.GetValueOrDefault("FailedAt")),
                JobLogReader.Last(connection, jobId)));
        }

        return items;
    }

    private static FanOutRunStatus StatusOf(RunRecord record, IReadOnlyList<FanOutHandlerProgress> handlers)
    {
        var allEnded = record.DispatchEnded && handlers.All(h => h.InFlight == 0);
        return record.Status switch
        {
            RunRecord.Skipped => FanOutRunStatus.Skipped,
            RunRecord.Cancelled => FanOutRunStatus.Cancelled,
            _ when allEnded && record.CompletedAt is not null => handlers.Any(h => h.Failed > 0)
                ? FanOutRunStatus.CompletedWithFailures
                : FanOutRunStatus.Completed,
            RunRecord.Interrupted => FanOutRunStatus.Interrupted,
            RunRecord.Dispatched => FanOutRunStatus.Running,
            RunRecord.Pending => FanOutRunStatus.Pending,
            _ => FanOutRunStatus.Dispatching,
        };
    }

    // Job ids are numbers on most storages: shorter first, then by text, orders them as numbers and any others stably.
    private static List<string> FailedJobIds(IStorageConnection connection, RunRecord record, int count) =>
        record.HandlerIds
            .SelectMany(handlerId => connection.GetAllItemsFromSet(StorageKeys.Outcome(record.RunId, handlerId, RunOutcomesAttribute.Failed)) ?? [])
            .OrderBy(id => id.Length)
            .ThenBy(id => id, StringComparer.Ordinal)
            .Take(count)
            .ToList();

    private static DateTimeOffset? ParseFailedAt(string? value) =>
        long.TryParse(value, out var unixMilliseconds) ? DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds)
        : DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var parsed) ? parsed
        : null;
}
