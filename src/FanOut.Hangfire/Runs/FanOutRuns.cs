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
        List<FailedJob> jobIds;
        using (var connection = hangfire.Storage.GetConnection())
        {
            // A cancelled run's jobs would be deleted as they were requeued: its failed items stay as they are.
            jobIds = runs.Find(connection, runId) is { IsCancelled: false } record ? FailedJobs(connection, record) : [];
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
        var failed = new List<(string RunId, List<FailedJob> JobIds)>();
        using (var connection = hangfire.Storage.GetConnection())
        {
            foreach (var runId in RunStore.RecentRunIds(connection, name, RunStore.ListedRuns))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (runs.Find(connection, runId) is { } record && (record.TriggeredAt ?? record.DispatchStartedAt) is { } started && started >= from && started < to)
                {
                    failed.Add((runId, FailedJobs(connection, record)));
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

    // Counts items: a batch job requeued counts its failed items.
    private int Requeue(string runId, List<FailedJob> jobs, CancellationToken cancellationToken)
    {
        var requeued = 0;
        foreach (var (jobId, items) in jobs)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Only a job still Failed is requeued, so two concurrent retries requeue each job once. Under a limit the job may
            // wait for a slot instead of being enqueued: it was requeued all the same.
            if (hangfire.ChangeState(jobId, new EnqueuedState { Reason = $"Failed items of run {runId} retried" }, FailedState.StateName) is not null)
            {
                requeued += items;
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
        return Task.FromResult(ChildJobs.TryRead(connection.GetJobData(jobId)?.Job, out _)
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
        var jobs = new Dictionary<string, FailedJobView?>(StringComparer.Ordinal);
        foreach (var member in record is null ? [] : FailedMembers(connection, record).Take(count))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (jobId, index) = OutcomeMembers.Parse(member);
            if (!jobs.TryGetValue(jobId, out var view))
            {
                view = FailedJobView.Read(connection, jobId);
                jobs[jobId] = view;
            }

            if (view?.ItemAt(index) is { } item)
            {
                items.Add(item);
            }
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

    // Job ids are numbers on most storages: shorter first, then by text, orders them as numbers and any others stably; a
    // batch's items follow each other in their order.
    private static List<string> FailedMembers(IStorageConnection connection, RunRecord record) =>
        record.HandlerIds
            .SelectMany(handlerId => connection.GetAllItemsFromSet(StorageKeys.Outcome(record.RunId, handlerId, RunOutcomesAttribute.Failed)) ?? [])
            .Select(member => (Member: member, Parsed: OutcomeMembers.Parse(member)))
            .OrderBy(m => m.Parsed.JobId.Length)
            .ThenBy(m => m.Parsed.JobId, StringComparer.Ordinal)
            .ThenBy(m => m.Parsed.Index)
            .Select(m => m.Member)
            .ToList();

    // Each failed job once, with how many of its items failed.
    private static List<FailedJob> FailedJobs(IStorageConnection connection, RunRecord record) =>
        FailedMembers(connection, record)
            .GroupBy(member => OutcomeMembers.Parse(member).JobId, StringComparer.Ordinal)
            .Select(g => new FailedJob(g.Key, g.Count()))
            .ToList();

    internal static DateTimeOffset? ParseFailedAt(string? value) =>
        long.TryParse(value, out var unixMilliseconds) ? DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds)
        : DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var parsed) ? parsed
        : null;

    private sealed record FailedJob(string JobId, int Items);
}
