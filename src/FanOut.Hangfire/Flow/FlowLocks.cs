using System.Collections.Concurrent;
using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// The lock of each limit: an in-process semaphore first, so threads of one process queue without touching storage,
/// then the storage's distributed lock, for the other processes. Held from the first read of a limit's state until the
/// transaction that changes it has committed (<see cref="FlowScope"/>).
/// </summary>
internal sealed class FlowLocks(HangfireServices hangfire)
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
            var connection = hangfire.Storage.GetConnection();
            try
            {
                var distributed = connection.AcquireDistributedLock(StorageKeys.FlowLock(limit), Timeout);
                return new Held(local, connection, distributed);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }
        catch
        {
            local.Release();
            throw;
        }
    }

    private sealed class Held(SemaphoreSlim local, IDisposable connection, IDisposable distributed) : IDisposable
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
                connection.Dispose();
            }
            finally
            {
                local.Release();
            }
        }
    }
}
