using FanOut.Hangfire.Storage;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

internal sealed class FanOutRuns(HangfireServices hangfire, RunStore runs) : IFanOutRuns
{
    public Task<IReadOnlyList<FanOutRun>> ListAsync(string name, int count = 20, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var connection = hangfire.Storage.GetConnection();
        var found = new List<FanOutRun>();
        foreach (var runId in RunStore.RecentRunIds(connection, name, count))
        {
            if (Read(connection, runId) is { } run)
            {
                found.Add(run);
            }
        }

        return Task.FromResult<IReadOnlyList<FanOutRun>>(found);
    }

    public Task<FanOutRun?> GetAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        using var connection = hangfire.Storage.GetConnection();
        return Task.FromResult(Read(connection, runId));
    }

    public Task<IReadOnlyList<FanOutFailedItem>> GetFailedItemsAsync(string runId, int count = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var connection = hangfire.Storage.GetConnection();
        return Task.FromResult(FailedItems(connection, runId, count));
    }

    public Task<int> RetryFailedAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        List<string> jobIds;
        using (var connection = hangfire.Storage.GetConnection())
        {
            jobIds = runs.Find(connection, runId) is { } record ? FailedJobIds(connection, record, int.MaxValue) : [];
        }

        var client = hangfire.Client;
        var requeued = 0;
        foreach (var jobId in jobIds)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Only a job still Failed is requeued, so two concurrent retries requeue each job once.
            if (client.ChangeState(jobId, new EnqueuedState { Reason = $"Failed items of run {runId} retried" }, FailedState.StateName))
            {
                requeued++;
            }
        }

        return Task.FromResult(requeued);
    }

    internal FanOutRun? Read(IStorageConnection connection, string runId)
    {
        var record = runs.Find(connection, runId);
        return record is null ? null : ToRun(connection, record);
    }

    internal static FanOutRun ToRun(IStorageConnection connection, RunRecord record)
    {
        var handlers = record.HandlerIds
            .Select(handlerId => new FanOutHandlerProgress(
                handlerId,
                record.DispatchedItems,
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Succeeded),
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Failed),
                RunStore.Outcome(connection, record.RunId, handlerId, RunOutcomesAttribute.Deleted)))
            .ToList();
        var allEnded = record.DispatchEnded && handlers.All(h => h.InFlight == 0);
        var status = record.Status switch
        {
            RunRecord.Skipped => FanOutRunStatus.Skipped,
            _ when allEnded && record.CompletedAt is not null => FanOutRunStatus.Completed,
            RunRecord.Interrupted => FanOutRunStatus.Interrupted,
            RunRecord.Dispatched => FanOutRunStatus.Running,
            _ => FanOutRunStatus.Dispatching,
        };
        return new FanOutRun(
            record.RunId,
            record.Kind == RunRecord.SendKind ? FanOutRunKind.Send : FanOutRunKind.Cron,
            record.Name,
            record.EventName,
            status,
            record.DispatchStartedAt,
            record.DispatchFinishedAt,
            record.CompletedAt,
            record.Completions,
            record.DispatchedItems,
            handlers);
    }

    internal IReadOnlyList<FanOutFailedItem> FailedItems(IStorageConnection connection, string runId, int count)
    {
        var items = new List<FanOutFailedItem>();
        var record = runs.Find(connection, runId);
        foreach (var jobId in record is null ? [] : FailedJobIds(connection, record, count))
        {
            var job = connection.GetJobData(jobId);
            if (job?.Job is not { Args.Count: > 2 } stored)
            {
                continue;
            }

            var state = connection.GetStateData(jobId);
            var data = new Dictionary<string, string>(state?.Data ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
            items.Add(new FanOutFailedItem(
                (string)stored.Args[0],
                (string)stored.Args[2],
                jobId,
                data.GetValueOrDefault("ExceptionType"),
                data.GetValueOrDefault("ExceptionMessage"),
                ParseFailedAt(data.GetValueOrDefault("FailedAt"))));
        }

        return items;
    }

    // Job ids are numbers on most storages: shorter first, then by text, orders them as numbers and any others stably.
    private static List<string> FailedJobIds(IStorageConnection connection, RunRecord record, int count) =>
        record.HandlerIds
            .SelectMany(handlerId => connection.GetAllItemsFromSet(RunKeys.Outcome(record.RunId, handlerId, RunOutcomesAttribute.Failed)) ?? [])
            .OrderBy(id => id.Length)
            .ThenBy(id => id, StringComparer.Ordinal)
            .Take(count)
            .ToList();

    private static DateTimeOffset? ParseFailedAt(string? value) =>
        long.TryParse(value, out var unixMilliseconds) ? DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds)
        : DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var parsed) ? parsed
        : null;
}
