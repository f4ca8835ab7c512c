using System.Transactions;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.PostgreSql.Bulk;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// The chunk writer <c>UsePostgreSqlDispatch</c> installs. On a storage the fast path supports (see
/// <see cref="FastPathProbe"/>) it runs the chunk's <see cref="FanOutChunk.WriteJobs"/> on a <see cref="BulkConnection"/>,
/// so Hangfire's client filters and state machine decide every row as they always do, and the chunk reaches PostgreSQL
/// in a few set-based statements in one transaction with its checkpoint. It returns once the chunk's rows are on their
/// way, and the chunk commits in the background after the previous one, so the next chunk is written while this one
/// finishes: at most two chunks are in memory. Otherwise, and for a chunk whose filters make a write the fast path does
/// not, it takes the generic path. Which one is used is logged once; a storage it cannot support is warned about.
/// </summary>
internal sealed partial class PostgreSqlChunkWriter(ProbedStorage probed, ILogger<PostgreSqlChunkWriter> logger) : IFanOutChunkWriter
{
    private readonly Lock _gate = new();
    private FastPathDecision? _decision;
    private bool _warned;

    /// <summary>The path the writer took (or is about to take) for the application's storage, probing it on first use.</summary>
    public FastPathDecision Decision
    {
        get
        {
            lock (_gate)
            {
                if (_decision is null)
                {
                    _decision = probed.Decision;
                    LogDispatchPath(_decision.Description);
                }

                return _decision;
            }
        }
    }

    public Task WriteAsync(FanOutChunk chunk)
    {
        var decision = Decision;
        ReportWarningsOnce(chunk, decision);

        // Under an ambient transaction Hangfire decides whether its writes join it; leave that to Hangfire.
        if (decision.Target is not { } target || chunk.Connection is not JobStorageConnection storageConnection || Transaction.Current is not null)
        {
            return WriteGeneric(chunk);
        }

        var bulk = new BulkConnection(storageConnection, target, chunk.JobCount, chunk.PreviousCommit);
        try
        {
            chunk.WriteJobs(bulk, transaction => ((BulkTransaction)transaction).BeforeCommit(chunk.WriteCheckpoint));
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
            return WriteGeneric(chunk);
        }
        finally
        {
            bulk?.Dispose();
        }
    }

    // Hangfire's own API, as the core's default writer uses it: after the previous chunk, in one transaction.
    private static Task WriteGeneric(FanOutChunk chunk)
    {
        chunk.PreviousCommit.GetAwaiter().GetResult();
        chunk.WriteJobs(chunk.Connection, chunk.WriteCheckpoint);
        return Task.CompletedTask;
    }

    private void ReportWarningsOnce(FanOutChunk chunk, FastPathDecision decision)
    {
        lock (_gate)
        {
            if (_warned)
            {
                return;
            }

            _warned = true;
        }

        foreach (var warning in decision.Warnings)
        {
            chunk.ReportWarning(warning);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "FanOut dispatch leaves the PostgreSQL fast path for the generic Hangfire path: a job filter made a write it does not make ({Operation})")]
    private partial void LogFallBack(string operation);
}
