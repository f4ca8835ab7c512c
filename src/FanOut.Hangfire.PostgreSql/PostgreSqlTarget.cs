using FanOut.Hangfire.PostgreSql.Bulk;
using Hangfire.PostgreSql;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>A PostgreSQL storage the fast path writes to: how to reach it, its statements, and how its workers are woken.</summary>
internal sealed class PostgreSqlTarget(
    PostgreSqlStorage storage,
    StorageInternals internals,
    ChunkStatements statements,
    string schemaName,
    bool notifiesListeners)
{
    /// <summary>The storage's Hangfire schema, which names the storage's own locks (<see cref="AdvisoryLimitLock"/>).</summary>
    public string SchemaName { get; } = schemaName;

    public ChunkStatements Statements { get; } = statements;

    /// <summary>Refreshes the queue table's statistics after the fast path queued many jobs (see <see cref="Bulk.QueueStatistics"/>).</summary>
    public QueueStatistics QueueStatistics { get; } = new(schemaName, TimeProvider.System);

    /// <summary>True when the storage uses long polling: its workers in every process listen for a notification.</summary>
    public bool NotifiesListeners { get; } = notifiesListeners;

    public NpgsqlConnection Open() => internals.Open(storage);

    public void Release(NpgsqlConnection connection) => internals.Release(storage, connection);

    public void Signal(string queue) => internals.Signal(queue);
}
