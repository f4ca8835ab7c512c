using System.Diagnostics.CodeAnalysis;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Items;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// One chunk of a dispatch, as an <see cref="IFanOutChunkWriter"/> is given it: which run it belongs to, the commit it
/// must follow, and the two operations a writer is made of: creating the chunk's jobs the way Hangfire does, and writing
/// the checkpoint that must commit with them.
/// </summary>
[Experimental(Diagnostic)]
public sealed class FanOutChunk
{
    /// <summary>The diagnostic id of the storage fast-path seam, an API that may change in a minor version.</summary>
    public const string Diagnostic = "FANOUT0001";

    private readonly HangfireServices _hangfire;
    private readonly RegisteredEvent _event;
    private readonly IReadOnlyList<EncodedItem> _items;
    private readonly IReadOnlyDictionary<string, object?> _parameters;
    private readonly Action<IWriteOnlyTransaction> _checkpoint;
    private readonly Action<string> _warn;
    private readonly FlowControl? _flow;
    private readonly HashSet<string> _paused;

    internal FanOutChunk(
        HangfireServices hangfire,
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<EncodedItem> items,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> checkpoint,
        Task previousCommit,
        Action<string> warn,
        FlowControl? flow = null,
        Pauses? pauses = null)
    {
        // Decided once per chunk, from what this process knows is paused (Pauses, read again every second).
        _paused = @event.Handlers.Where(h => pauses?.IsHandlerPaused(h.Id) == true).Select(h => h.Id).ToHashSet(StringComparer.Ordinal);
        _flow = @event.Handlers.Any(h => h.Limit is not null && !_paused.Contains(h.Id)) ? flow : null;
        _hangfire = hangfire;
        Connection = connection;
        RunId = runId;
        _event = @event;
        _items = items;
        _parameters = parameters;
        _checkpoint = checkpoint;
        PreviousCommit = previousCommit;
        _warn = warn;
    }

    /// <summary>Gets the Hangfire storage the application configured.</summary>
    public JobStorage Storage => _hangfire.Storage;

    /// <summary>Gets a connection to <see cref="Storage"/>, open until <see cref="IFanOutChunkWriter.WriteAsync"/> returns.</summary>
    public IStorageConnection Connection { get; }

    /// <summary>Gets the id of the run the chunk belongs to.</summary>
    public string RunId { get; }

    /// <summary>Gets the name of the event the chunk's items are sent as.</summary>
    public string EventName => _event.Name;

    /// <summary>Gets how many items the chunk holds.</summary>
    public int ItemCount => _items.Count;

    /// <summary>
    /// Gets how many jobs the chunk creates at most: one per item and handler of the event (a batch handler makes one per
    /// batch, so fewer).
    /// </summary>
    public int JobCount => _items.Count * _event.Handlers.Count;

    /// <summary>Gets the commit of the chunk before this one; this chunk may commit only once it completed successfully.</summary>
    public Task PreviousCommit { get; }

    /// <summary>The limits the chunk's jobs were decided under, locked until the chunk has committed; null when none.</summary>
    internal FlowScope? FlowScope { get; private set; }

    /// <summary>
    /// Creates the chunk's jobs as Hangfire's client does, on <paramref name="connection"/>: each through Hangfire's job
    /// factory and client filters, as a job without state that expires unless initialized. Then it opens one write
    /// transaction on <paramref name="connection"/>, moves every job to Enqueued through Hangfire's state machine (state
    /// filters, run accounting included), calls <paramref name="beforeCommit"/> with the transaction, and commits it.
    /// </summary>
    /// <param name="connection">The connection to create the jobs on: <see cref="Connection"/>, or a writer's own.</param>
    /// <param name="beforeCommit">
    /// Called with the transaction before it commits; it must see to it that <see cref="WriteCheckpoint"/> is written in
    /// that transaction (by calling it, or by having the transaction call it when it commits).
    /// </param>
    public void WriteJobs(IStorageConnection connection, Action<IWriteOnlyTransaction> beforeCommit)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(beforeCommit);

        // The chunk's jobs are of one or two types: their filters are looked up once for the chunk, not twice a job.
        var hangfire = _hangfire.ForChunk();
        var created = ChunkJobs.Plan(hangfire, RunId, _event, _items)
            .Select(planned => (Job: hangfire.CreateUninitialized(connection, planned.Job, _parameters.ToDictionary()), Planned: planned))
            .ToList();

        if (_flow is null)
        {
            using var transaction = connection.CreateWriteTransaction();
            var reason = $"Dispatched by run {RunId}";
            foreach (var (backgroundJob, planned) in created)
            {
                if (!TryWriteUnlimited(hangfire, connection, transaction, backgroundJob, planned))
                {
                    hangfire.Enqueue(connection, transaction, backgroundJob, planned.Handler.Options.Queue, reason);
                }
            }

            beforeCommit(transaction);
            transaction.Commit();
            return;
        }

        WriteLimitedJobs(hangfire, _flow, connection, created, beforeCommit);
    }

    // The jobs of limited handlers start waiting (or are admitted, or fail on a bad key), decided under their limits'
    // locks, which stay held until the chunk has committed (the dispatcher lets them go), so no other process reads a
    // limit's state in between.
    private void WriteLimitedJobs(
        HangfireServices hangfire,
        FlowControl flow,
        IStorageConnection connection,
        List<(BackgroundJob Job, PlannedJob Planned)> created,
        Action<IWriteOnlyTransaction> beforeCommit)
    {
        FlowScope?.ReleaseLocks();
        var scope = FlowScope.OpenForChunk(flow.Locks);
        try
        {
            using var transaction = connection.CreateWriteTransaction();
            var reason = $"Dispatched by run {RunId}";
            foreach (var (backgroundJob, planned) in created)
            {
                var handler = planned.Handler;
                if (TryWriteUnlimited(hangfire, connection, transaction, backgroundJob, planned))
                {
                    continue;
                }

                if (handler.Limit is null)
                {
                    hangfire.Enqueue(connection, transaction, backgroundJob, handler.Options.Queue, reason);
                    continue;
                }

                var state = flow.Arrive(scope, transaction, backgroundJob.Id, handler, planned.LeadKey, planned.LeadJson);
                using (scope.SettingState(backgroundJob.Id))
                {
                    hangfire.Apply(connection, transaction, backgroundJob, state ?? new global::Hangfire.States.EnqueuedState(handler.Options.Queue) { Reason = reason });
                }
            }

            beforeCommit(transaction);
            transaction.Commit();
            scope.Detach();
            FlowScope = scope;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    // A job that does not go to its limit or queue: one whose handler is paused waits for the resume, holding nothing of
    // its limit; a batch whose key could not be computed fails at once, saying why.
    private bool TryWriteUnlimited(HangfireServices hangfire, IStorageConnection connection, IWriteOnlyTransaction transaction, BackgroundJob backgroundJob, PlannedJob planned)
    {
        if (planned.Problem is { } problem)
        {
            hangfire.Apply(connection, transaction, backgroundJob, new global::Hangfire.States.FailedState(new LimitKeyException(problem)) { Reason = "Its batch key could not be computed" });
            return true;
        }

        if (_paused.Contains(planned.Handler.Id))
        {
            hangfire.Apply(connection, transaction, backgroundJob, FanOutWaitingState.ForPause(planned.Handler.Id));
            return true;
        }

        return false;
    }

    /// <summary>
    /// Writes what must commit together with the chunk's jobs: the run's checkpoint (how many items and jobs the run has
    /// dispatched once this chunk commits) and the renewal of the dispatch's lease.
    /// </summary>
    /// <param name="transaction">The transaction the chunk's jobs commit in.</param>
    public void WriteCheckpoint(IWriteOnlyTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        _checkpoint(transaction);
    }

    /// <summary>
    /// Reports a problem with the storage or its configuration that the writer found, such as a version it does not
    /// support. It is logged at Warning once and shown on the dashboard's Fan-out page.
    /// </summary>
    /// <param name="message">What is wrong and what it changes, in a sentence or two.</param>
    public void ReportWarning(string message)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        _warn(message);
    }
}
