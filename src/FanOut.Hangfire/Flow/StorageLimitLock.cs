using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

#pragma warning disable FANOUT0001 // The library's own implementation of its experimental seam.

/// <summary>The default limit lock: the storage's own distributed lock, on a connection held as long as the lock.</summary>
internal sealed class StorageLimitLock(HangfireServices hangfire) : IFanOutLimitLock
{
    public IDisposable Acquire(string resource, TimeSpan timeout)
    {
        var connection = hangfire.Storage.GetConnection();
        try
        {
            return new Held(connection, connection.AcquireDistributedLock(resource, timeout));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private sealed class Held(IDisposable connection, IDisposable distributed) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                distributed.Dispose();
            }
            finally
            {
                connection.Dispose();
            }
        }
    }
}
