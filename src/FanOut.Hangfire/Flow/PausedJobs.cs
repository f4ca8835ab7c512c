using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// Releases the jobs of a handler that is no longer paused, oldest first (by creation), each through the application's
/// state changer, so a limited handler's jobs arrive at its limit as any other job does and wait their turn there. One
/// process releases a handler's jobs at a time (<see cref="StorageKeys.PauseReleaseLock"/>); a pause landing again stops
/// the release, and the jobs not released yet keep waiting.
/// </summary>
internal sealed partial class PausedJobs(
    FanOutRegistry registry,
    HangfireServices hangfire,
    Pauses pauses,
    ILogger<PausedJobs> logger)
{
    private const int PageSize = 100;
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How many jobs wait because <paramref name="handlerId"/> is (or was) paused.</summary>
    public static long Count(IStorageConnection connection, string handlerId) =>
        connection is JobStorageConnection counting
            ? counting.GetSetCount(StorageKeys.PausedJobs(handlerId))
            : connection.GetAllItemsFromSet(StorageKeys.PausedJobs(handlerId))?.Count ?? 0;

    /// <summary>Releases the handler's waiting jobs if it is not paused; returns how many. Another process releasing them already: none.</summary>
    public int Release(string handlerId, CancellationToken cancellationToken)
    {
        if (pauses.IsHandlerPaused(handlerId) || registry.FindHandler(handlerId) is not { } handler)
        {
            return 0;
        }

        using var connection = hangfire.Storage.GetConnection();
        if (connection is not JobStorageConnection storage)
        {
            return 0;
        }

        IDisposable held;
        try
        {
            held = connection.AcquireDistributedLock(StorageKeys.PauseReleaseLock(handlerId), LockTimeout);
        }
        catch (DistributedLockTimeoutException)
        {
            return 0;
        }

        var released = 0;
        using (held)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var page = storage.GetFirstByLowestScoreFromSet(StorageKeys.PausedJobs(handlerId), double.NegativeInfinity, double.PositiveInfinity, PageSize);
                if (page.Count == 0)
                {
                    break;
                }

                var moved = 0;
                foreach (var jobId in page)
                {
                    if (cancellationToken.IsCancellationRequested || pauses.IsHandlerPaused(handlerId))
                    {
                        LogReleased(handlerId, released, stopped: true);
                        return released;
                    }

                    switch (ReleaseOne(connection, handler, jobId))
                    {
                        case Outcome.Released:
                            released++;
                            moved++;
                            break;
                        case Outcome.Dropped:
                            moved++;
                            break;
                    }
                }

                if (moved == 0)
                {
                    // Every job of the page is being changed by someone else right now: the next look takes them.
                    break;
                }
            }
        }

        if (released > 0)
        {
            LogReleased(handlerId, released, stopped: false);
        }

        return released;
    }

    private Outcome ReleaseOne(IStorageConnection connection, RegisteredHandler handler, string jobId)
    {
        if (WaitingFor(connection, jobId, handler.Id) is { } data)
        {
            var queue = data.Job.Queue ?? handler.Options.Queue;
            if (hangfire.ChangeState(jobId, new EnqueuedState(queue) { Reason = $"Handler {handler.Id} resumed" }, FanOutWaitingState.StateName) is not null)
            {
                return Outcome.Released;
            }

            if (WaitingFor(connection, jobId, handler.Id) is not null)
            {
                return Outcome.Left;
            }
        }

        // Gone, or no longer waiting for its handler (moved on by a path that bypassed the filters): out of the line.
        using var transaction = connection.CreateWriteTransaction();
        transaction.RemoveFromSet(StorageKeys.PausedJobs(handler.Id), jobId);
        transaction.Commit();
        return Outcome.Dropped;
    }

    private static JobData? WaitingFor(IStorageConnection connection, string jobId, string handlerId) =>
        connection.GetJobData(jobId) is { Job: not null } data
        && FanOutWaitingState.IsWaiting(data.State)
        && FanOutWaitingState.PausedHandlerOf(connection.GetStateData(jobId)?.Data) == handlerId
            ? data
            : null;

    private enum Outcome
    {
        Released,
        Dropped,
        Left,
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Handler {HandlerId} resumed: released {Released} waiting jobs{Stopped}")]
    private partial void LogReleased(string handlerId, int released, string stopped);

    private void LogReleased(string handlerId, int released, bool stopped) =>
        LogReleased(handlerId, released, stopped ? "; paused again, the rest keep waiting" : string.Empty);
}
