using System.Data.Common;
using System.Reflection;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Utils;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// The three things the fast path needs of Hangfire.PostgreSql that it keeps internal: how the storage opens a
/// connection (so its connection factory and setup action apply, as they do to Hangfire's own writes), how it lets one
/// go, and the in-process signal its transactions raise after a commit to wake the workers waiting on a queue. Read once
/// by reflection, for the package versions <see cref="FastPathProbe"/> accepts; when one is missing the fast path is
/// off and the generic path is used.
/// </summary>
internal sealed class StorageInternals
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;

    private static readonly Lazy<StorageInternals?> Found = new(Find);

    private readonly Func<PostgreSqlStorage, NpgsqlConnection> _open;
    private readonly Action<PostgreSqlStorage, DbConnection> _release;
    private readonly AutoResetEventRegistry _queueSignals;

    private StorageInternals(
        Func<PostgreSqlStorage, NpgsqlConnection> open,
        Action<PostgreSqlStorage, DbConnection> release,
        AutoResetEventRegistry queueSignals)
    {
        _open = open;
        _release = release;
        _queueSignals = queueSignals;
    }

    /// <summary>The internals of the loaded Hangfire.PostgreSql, or null when they are not what the fast path expects.</summary>
    public static StorageInternals? Current => Found.Value;

    public NpgsqlConnection Open(PostgreSqlStorage storage) => _open(storage);

    public void Release(PostgreSqlStorage storage, DbConnection connection) => _release(storage, connection);

    /// <summary>Wakes a worker of this process waiting on the queue, as Hangfire's own transaction does once per job it enqueued.</summary>
    public void Signal(string queue) => _queueSignals.Set(queue);

    private static StorageInternals? Find()
    {
        var open = typeof(PostgreSqlStorage).GetMethod("CreateAndOpenConnection", Instance, Type.EmptyTypes);
        var release = typeof(PostgreSqlStorage).GetMethod("ReleaseConnection", Instance, [typeof(DbConnection)]);
        var signals = typeof(PostgreSqlJobQueue)
            .GetField("_queueEventRegistry", BindingFlags.Static | BindingFlags.NonPublic)?
            .GetValue(null) as AutoResetEventRegistry;
        if (open?.ReturnType != typeof(NpgsqlConnection) || release is null || signals is null)
        {
            return null;
        }

        return new StorageInternals(
            open.CreateDelegate<Func<PostgreSqlStorage, NpgsqlConnection>>(),
            release.CreateDelegate<Action<PostgreSqlStorage, DbConnection>>(),
            signals);
    }
}
