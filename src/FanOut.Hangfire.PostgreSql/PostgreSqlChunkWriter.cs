using System.Transactions;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.PostgreSql.Bulk;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// The chunk writer <c>UsePostgreSqlDispatch</c> installs. On a storage the fast path supports (see
/// <see cref="FastPathProbe"/>) it runs the generic path on a <see cref="BulkConnection"/>, so Hangfire's client
/// filters and state machine decide every row as they always do, and the chunk reaches PostgreSQL in a few set-based
/// statements in one transaction with its checkpoint. Otherwise, and for a chunk whose filters make a write the fast path
/// does not, it is the generic path. Which one is used is logged once.
/// </summary>
internal sealed partial class PostgreSqlChunkWriter(
    HangfireServices hangfire,
    HangfireChunkWriter generic,
    ILogger<PostgreSqlChunkWriter> logger) : IChunkWriter
{
    private readonly Lock _gate = new();
    private FastPathDecision? _decision;

    /// <summary>The path the writer took (or is about to take) for the application's storage, probing it on first use.</summary>
    public FastPathDecision Decision
    {
        get
        {
            lock (_gate)
            {
                if (_decision is null)
                {
                    _decision = FastPathProbe.Probe(hangfire.Storage);
                    LogDispatchPath(_decision.Description);
                }

                return _decision;
            }
        }
    }

    public void Write(
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<DispatchItem> chunk,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> inSameTransaction)
    {
        // Under an ambient transaction Hangfire decides whether its writes join it; leave that to Hangfire.
        if (Decision.Target is not { } target || connection is not JobStorageConnection storageConnection || Transaction.Current is not null)
        {
            generic.Write(connection, runId, @event, chunk, parameters, inSameTransaction);
            return;
        }

        try
        {
            using var bulk = new BulkConnection(storageConnection, target, chunk.Count * @event.Handlers.Count);
            generic.Write(bulk, runId, @event, chunk, parameters, transaction => ((BulkTransaction)transaction).BeforeCommit(inSameTransaction));
        }
        catch (UnsupportedWriteException ex)
        {
            FallBack(ex.Operation);
            generic.Write(connection, runId, @event, chunk, parameters, inSameTransaction);
        }
    }

    private void FallBack(string operation)
    {
        lock (_gate)
        {
            if (_decision?.Target is null)
            {
                return;
            }

            _decision = new FastPathDecision(null, $"the generic Hangfire path, because a chunk made a write the fast path does not make ({operation})");
        }

        LogFallBack(operation);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "FanOut dispatch writes child jobs through {DispatchPath}")]
    private partial void LogDispatchPath(string dispatchPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FanOut dispatch leaves the PostgreSQL fast path for the generic Hangfire path: a job filter made a write it does not make ({Operation})")]
    private partial void LogFallBack(string operation);
}
