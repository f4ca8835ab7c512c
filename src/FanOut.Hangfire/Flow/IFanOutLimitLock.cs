using System.Diagnostics.CodeAnalysis;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// The distributed lock every process takes before it reads and changes a limit's state, held until the change has
/// committed: the extensibility point through which a storage package offers a lock cheaper than Hangfire's own (the
/// default, the storage's <c>AcquireDistributedLock</c>, which on some storages polls). Threads of one process queue
/// in memory before they ask for it, so it is contended only between processes. Install one with
/// <c>UseLimitLock&lt;TLock&gt;()</c>; it is a singleton.
/// </summary>
[Experimental("FANOUT0001")]
public interface IFanOutLimitLock
{
    /// <summary>Takes the lock on <paramref name="resource"/>, waiting up to <paramref name="timeout"/>.</summary>
    /// <param name="resource">The lock's name, unique per limit.</param>
    /// <param name="timeout">How long to wait before throwing.</param>
    /// <returns>The held lock; disposing it lets it go.</returns>
    IDisposable Acquire(string resource, TimeSpan timeout);
}
