using FanOut.Hangfire.Flow;
using Hangfire;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// The limit lock <c>UsePostgreSqlDispatch</c> installs: an <see cref="AdvisoryLimitLock"/> on a storage the package
/// supports (the one <see cref="FastPathProbe"/> accepts, opening a connection of its own per lock), and otherwise the
/// lock that was installed before it, the core's default unless the application chose another. The storage is probed
/// at the first lock; a probe that fails (the database unreachable) is tried again at the next.
/// </summary>
internal sealed class PostgreSqlLimitLock(ProbedStorage probed, Func<IFanOutLimitLock> previous) : IFanOutLimitLock
{
    private readonly Lock _gate = new();
    private IFanOutLimitLock? _chosen;

    /// <summary>The lock in use, choosing it on first use.</summary>
    public IFanOutLimitLock Chosen
    {
        get
        {
            lock (_gate)
            {
                return _chosen ??= Choose();
            }
        }
    }

    public IDisposable Acquire(string resource, TimeSpan timeout) => Chosen.Acquire(resource, timeout);

    private IFanOutLimitLock Choose() =>
        probed.Decision.Target is { } target && OpensConnectionsOfItsOwn(target)
            ? new AdvisoryLimitLock(target)
            : previous();

    // A storage built on one existing connection hands that same connection to every caller: a session lock there
    // would be shared by everything the storage does, and the connection used by two threads at once.
    private static bool OpensConnectionsOfItsOwn(PostgreSqlTarget target)
    {
        var first = target.Open();
        try
        {
            var second = target.Open();
            try
            {
                return !ReferenceEquals(first, second);
            }
            finally
            {
                target.Release(second);
            }
        }
        finally
        {
            target.Release(first);
        }
    }
}
