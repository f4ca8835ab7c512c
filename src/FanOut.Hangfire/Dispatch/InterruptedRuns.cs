using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Finds the cron runs whose dispatch stopped without finishing and without failing: recorded as dispatching, still
/// open, and their own lease ran out. A dispatch that is alive keeps its lease renewed, and one that fails releases it
/// (Hangfire then schedules its retry), so a run whose lease ran out lost its dispatcher: its process died, or lost the
/// storage for longer than the lease. Its dispatch job stays fetched by the dead process until the storage's own
/// recovery (the invisibility timeout) hands it out again.
/// </summary>
internal sealed class InterruptedRuns(RunStore runs, TimeProvider time)
{
    /// <summary>The interrupted runs among the open ones, with when their lease ran out.</summary>
    public IReadOnlyList<InterruptedRun> Find(IStorageConnection connection)
    {
        var found = new List<InterruptedRun>();
        foreach (var runId in connection.GetAllItemsFromSet(StorageKeys.OpenRuns) ?? [])
        {
            if (Find(connection, runId) is { } run)
            {
                found.Add(run);
            }
        }

        return found;
    }

    /// <summary>The run, if it is interrupted as the list above counts it; null otherwise.</summary>
    public InterruptedRun? Find(IStorageConnection connection, string runId)
    {
        if (runs.Find(connection, runId) is not { Kind: RunRecord.CronKind, Status: RunRecord.Dispatching } record)
        {
            return null;
        }

        return DispatchLease.Read(connection, record.Name) is { } lease && lease.RunId == runId && lease.ExpiresAt <= time.GetUtcNow()
            ? new InterruptedRun(record, lease.ExpiresAt)
            : null;
    }
}

/// <summary>A run whose dispatch stopped without finishing, and when its lease ran out.</summary>
internal sealed record InterruptedRun(RunRecord Record, DateTimeOffset LeaseExpiredAt);
