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
/// statements in one transaction with its checkpoint. It returns once the chunk's rows are on their way, and the chunk
/// commits in the background after the previous one, so the next chunk is written while this one finishes: at most two
/// chunks are in memory. Otherwise, and for a chunk whose filters make a write the fast path does not, it is the generic
/// path. Which one is used is logged once.
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
                    if (_decision.Advice is { } advice)
                    {
                        LogAdvice(advice);
                    }
                }

                return _decision;
            }
        }
    }

    public Task Write(
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<DispatchItem> chunk,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> inSameTransaction,
        Task previousCommit)
    {
        // Under an ambient transaction Hangfire decides whether its writes join it; leave that to Hangfire.
        if (Decision.Target is not { } target || connection is not JobStorageConnection storageConnection || Transaction.Current is not null)
        {
            return generic.Write(connection, runId, @event, chunk, parameters, inSameTransaction, previousCommit);
        }

        var bulk = new BulkConnection(storageConnection, target, chunk.Count * @event.Handlers.Count, previousCommit);
        try
        {
            generic.WriteNow(bulk, runId, @event, chunk, parameters, transaction => ((BulkTransaction)transaction).BeforeCommit(inSameTransaction));
            var committing = bulk.Committing ?? throw new InvalidOperationException("The chunk's write transaction was not committed.");
            var committed = ReleaseWhenCommittedAsync(bulk, committing);
            bulk = null;
            return committed;
        }
        catch (UnsupportedWriteException ex)
        {
            bulk?.Dispose();
            bulk = null;
            FallBack(ex.Operation);
            return generic.Write(connection, runId, @event, chunk, parameters, inSameTransaction, previousCommit);
        }
        finally
        {
            bulk?.Dispose();
        }
    }

    private async Task ReleaseWhenCommittedAsync(BulkConnection bulk, Task committing)
    {
        try
        {
            await committing.ConfigureAwait(false);
        }
        catch (UnsupportedWriteException ex)
        {
            // Only the actions run at commit can get here; the dispatch fails, nothing of the chunk is committed, and
            // its retry takes the generic path.
            FallBack(ex.Operation);
            throw;
        }
        finally
        {
            bulk.Dispose();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Advice}")]
    private partial void LogAdvice(string advice);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FanOut dispatch leaves the PostgreSQL fast path for the generic Hangfire path: a job filter made a write it does not make ({Operation})")]
    private partial void LogFallBack(string operation);
}
