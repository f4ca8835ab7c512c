using System.Transactions;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.PostgreSql.Bulk;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// The state-change writer <c>UsePostgreSqlDispatch</c> installs. On a storage the fast path supports (see
/// <see cref="FastPathProbe"/>) it runs a batch of state changes (a cancelled run's waiting jobs, deleted 200 at a time)
/// on a <see cref="StateChangeConnection"/>: Hangfire's state machine and every filter decide each change as always, the
/// batch's jobs are read in one query, and its writes reach PostgreSQL as a few set-based statements in one transaction,
/// instead of a round trip per read and per write. Otherwise, and once a batch made a write it does not make (which it
/// then makes again the generic way, nothing of it having been written), it takes the generic path.
/// </summary>
internal sealed partial class PostgreSqlStateChangeWriter(ProbedStorage probed, ILogger<PostgreSqlStateChangeWriter> logger) : IFanOutStateChangeWriter
{
    private readonly Lock _gate = new();
    private FastPathDecision? _decision;

    /// <summary>The path the writer takes for the application's storage, probing it on first use.</summary>
    public FastPathDecision Decision
    {
        get
        {
            lock (_gate)
            {
                return _decision ??= probed.Decision;
            }
        }
    }

    public void Write(FanOutStateChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);

        // Under an ambient transaction Hangfire decides whether its writes join it; leave that to Hangfire.
        if (Decision.Target is not { } target || changes.Connection is not JobStorageConnection inner || Transaction.Current is not null)
        {
            changes.Apply(changes.Connection);
            return;
        }

        try
        {
            using var connection = new StateChangeConnection(inner, target, changes.JobIds);
            changes.Apply(connection);
        }
        catch (UnsupportedWriteException ex)
        {
            FallBack(ex.Operation);
            changes.Apply(changes.Connection);
        }
    }

    private void FallBack(string operation)
    {
        lock (_gate)
        {
            _decision = new FastPathDecision(null, $"the generic Hangfire path, because a batch of state changes made a write the fast path does not make ({operation})");
        }

        LogFallBack(operation);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "FanOut's batches of state changes leave the PostgreSQL fast path for the generic Hangfire path: a job filter made a write it does not make ({Operation})")]
    private partial void LogFallBack(string operation);
}
