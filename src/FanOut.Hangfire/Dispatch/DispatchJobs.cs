using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Enqueues a dispatch job for a given run of a cron fan-out, in the transaction that records why (a manual trigger, a
/// resume), so the record and the job exist together or not at all. The job carries the run id, so it dispatches that
/// run, and is never taken for a new firing.
/// </summary>
internal static class DispatchJobs
{
    /// <summary>Creates and enqueues the job, committing <paramref name="record"/>'s writes with it.</summary>
    public static void Enqueue(
        HangfireServices hangfire,
        IStorageConnection connection,
        RegisteredCron cron,
        string runId,
        string reason,
        Action<IWriteOnlyTransaction> record)
    {
        var job = hangfire.CreateUninitialized(
            connection,
            DispatchJobCodec.Instance.Create(hangfire, new DispatchJobArgs(cron.Id, runId), cron.Options.Queue),
            new Dictionary<string, object?>());
        using var transaction = connection.CreateWriteTransaction();
        hangfire.Enqueue(connection, transaction, job, cron.Options.Queue, reason);
        record(transaction);
        transaction.Commit();
    }
}
