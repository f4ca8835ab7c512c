using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FanOut.Hangfire.Flow;
using Hangfire.Storage;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// A limit lock held as a PostgreSQL session-level advisory lock (<c>pg_advisory_lock</c>) on a connection of its own,
/// opened through the storage (its connection factory applies) and kept open while the lock is held. The server queues
/// the waiters and wakes the next one the moment the holder lets go, where Hangfire.PostgreSql's own lock polls with
/// sleeps of up to a second. The wait is bounded by <c>lock_timeout</c>. The lock is let go with
/// <c>pg_advisory_unlock</c> before the connection goes back; a connection that broke took the lock with its session.
/// </summary>
internal sealed class AdvisoryLimitLock(PostgreSqlTarget target) : IFanOutLimitLock
{
    // The slack given to the command beyond lock_timeout, so the server's timeout, not the client's, ends a wait.
    private static readonly TimeSpan CommandSlack = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The advisory lock key of <paramref name="resource"/> in <paramref name="schemaName"/>: the first 8 bytes of the
    /// SHA-256 of both, so every process (and every version of this package) takes the same lock for a limit, and two
    /// Hangfire schemas in one database do not share theirs. A stored contract: it never changes.
    /// </summary>
    public static long KeyOf(string schemaName, string resource)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes("fanout-limit-lock\n" + schemaName + "\n" + resource), hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    public IDisposable Acquire(string resource, TimeSpan timeout)
    {
        var key = KeyOf(target.SchemaName, resource);
        var connection = target.Open();
        try
        {
            using var batch = new NpgsqlBatch(connection)
            {
                Timeout = CommandTimeoutOf(timeout),
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT set_config('lock_timeout', $1, false)") { Parameters = { new() { Value = LockTimeoutOf(timeout) } } },
                    new NpgsqlBatchCommand("SELECT pg_advisory_lock($1)") { Parameters = { new() { Value = key } } },
                },
            };
            batch.ExecuteNonQuery();
            return new Held(this, connection, key);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            Close(connection, resetLockTimeout: true);
            throw new DistributedLockTimeoutException(resource);
        }
        catch
        {
            Close(connection, resetLockTimeout: false);
            throw;
        }
    }

    // lock_timeout is in milliseconds, and 0 turns it off: a wait of less than 1 ms still waits 1 ms.
    private static string LockTimeoutOf(TimeSpan timeout) =>
        timeout == System.Threading.Timeout.InfiniteTimeSpan
            ? "0"
            : Math.Max(1L, (long)Math.Ceiling(timeout.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private static int CommandTimeoutOf(TimeSpan timeout) =>
        timeout == System.Threading.Timeout.InfiniteTimeSpan
            ? 0
            : (int)Math.Min(int.MaxValue, Math.Ceiling((timeout + CommandSlack).TotalSeconds));

    private void Release(NpgsqlConnection connection, long key)
    {
        try
        {
            using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT pg_advisory_unlock($1)") { Parameters = { new() { Value = key } } },
                    new NpgsqlBatchCommand("RESET lock_timeout"),
                },
            };
            batch.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection broke (its session, and the lock with it, are gone) or is in a state where the unlock could
            // not be sent: end the session rather than pool it, so the lock cannot outlive this call either way.
            NpgsqlConnection.ClearPool(connection);
        }
        finally
        {
            target.Release(connection);
        }
    }

    private void Close(NpgsqlConnection connection, bool resetLockTimeout)
    {
        try
        {
            if (resetLockTimeout)
            {
                using var reset = new NpgsqlCommand("RESET lock_timeout", connection);
                reset.ExecuteNonQuery();
            }
        }
        catch (NpgsqlException)
        {
            // The connection is going anyway; a broken one is not pooled.
        }
        finally
        {
            target.Release(connection);
        }
    }

    private sealed class Held(AdvisoryLimitLock owner, NpgsqlConnection connection, long key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(connection, key);
            }
        }
    }
}
