using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Storage;

#pragma warning disable FANOUT0001 // The library's own use of its experimental lock seam.

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// A lane of <see cref="StorageKeys.ChunkLock"/> held by one chunk of a dispatch from its cancel check until it has
/// committed (the chunk may still be committing after the call that wrote it returned). It is taken through
/// <see cref="IFanOutLimitLock"/>, the distributed lock the limits use: the storage's own, or the storage package's
/// cheaper one (on PostgreSQL with <c>UsePostgreSqlDispatch</c>, an advisory lock: two round trips and no commit a chunk,
/// and let go by the server if the process holding it dies).
/// </summary>
internal sealed class ChunkLock : IDisposable
{
    // A cancel holds a lane only while it records itself, and the chunk before in the same lane of this execution has
    // committed by then: a lane not free within a second is held by another execution of the run.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    private readonly IDisposable _lock;
    private int _released;

    private ChunkLock(IDisposable held) => _lock = held;

    /// <summary>
    /// Takes the lane, waiting briefly for a cancel that holds it; or returns null if another execution of the run holds
    /// it: one that stopped renewing its lease mid-chunk (and may never come back) must not hold up the one that took
    /// over, which then writes that chunk unguarded, as a cancel that cannot take the lane records itself unguarded.
    /// </summary>
    public static ChunkLock? TryTake(IFanOutLimitLock locks, string runId, int lane)
    {
        try
        {
            return new ChunkLock(locks.Acquire(StorageKeys.ChunkLock(runId, lane), Timeout));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>Lets the lane go once <paramref name="commit"/> has ended, whichever way.</summary>
    public async Task ReleaseAfterAsync(Task commit)
    {
        try
        {
            await commit.ConfigureAwait(false);
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _lock.Dispose();
        }
    }
}
