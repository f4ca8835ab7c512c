using System.Collections.Concurrent;
using FanOut.Hangfire.Storage;

#pragma warning disable FANOUT0001 // The experimental limit-lock seam is the library's own.

namespace FanOut.Hangfire.Flow;

/// <summary>
/// The lock of each limit: an in-process semaphore first, so threads of one process queue without touching storage,
/// then the distributed lock (<see cref="IFanOutLimitLock"/>: the storage's own unless a storage package offers a better
/// one), for the other processes. Held from the first read of a limit's state until the
/// transaction that changes it has committed (<see cref="FlowScope"/>).
/// </summary>
internal sealed class FlowLocks(IFanOutLimitLock distributedLock)
{
    // Long enough for a busy database; a state change that cannot get the lock in that time fails, and Hangfire retries it.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _local = new(StringComparer.Ordinal);

    public IDisposable Acquire(string limit)
    {
        var local = _local.GetOrAdd(limit, static _ => new SemaphoreSlim(1, 1));
        if (!local.Wait(Timeout))
        {
            throw new TimeoutException($"Could not take the lock of limit '{limit}' within {Timeout} in this process.");
        }

        try
        {
            return new Held(local, distributedLock.Acquire(StorageKeys.FlowLock(limit), Timeout));
        }
        catch
        {
            local.Release();
            throw;
        }
    }

    private sealed class Held(SemaphoreSlim local, IDisposable distributed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            try
            {
                distributed.Dispose();
            }
            finally
            {
                local.Release();
            }
        }
    }
}
