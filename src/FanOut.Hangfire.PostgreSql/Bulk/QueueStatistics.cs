using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// Keeps PostgreSQL's statistics of Hangfire's queue table in step with the fast path. Hangfire.PostgreSql's fetch orders
/// the waiting entries (<c>ORDER BY fetchedat NULLS FIRST, queue, jobid ... LIMIT 1</c>); while the table's statistics
/// say it holds few waiting entries, as they do before autovacuum has analyzed it after a burst, the planner sorts every
/// waiting entry for each fetch instead of reading the first one from its index. Hangfire's own enqueues arrive slowly
/// enough for autovacuum to follow; the fast path queues thousands of jobs a second, and every worker's fetch then sorted
/// the whole queue (measured: 8,000 entries, 0.1 to 0.2 s a fetch) until autovacuum came by, which by default takes up
/// to a minute. So once a process has queued <see cref="RowsBetweenAnalyzes"/> jobs since it last did, it analyzes the
/// table after the chunk's commit, at most once per <see cref="MinimumInterval"/>: a few milliseconds, once per large
/// dispatch.
/// </summary>
internal sealed class QueueStatistics(string schemaName, TimeProvider time)
{
    public const int RowsBetweenAnalyzes = 1_000;

    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(10);

    // SKIP_LOCKED: an autovacuum of the table at the same moment refreshes the statistics anyway; never wait for it.
    private readonly string _analyze = $"ANALYZE (SKIP_LOCKED) {ChunkStatements.Identifier(schemaName)}.\"jobqueue\"";
    private readonly Lock _gate = new();
    private long _queuedSinceAnalyze;
    private long? _analyzedAt;
    private bool _unavailable;

    /// <summary>Records that a chunk queued <paramref name="queued"/> jobs, and analyzes the queue table when it is due.</summary>
    public async Task QueuedAsync(NpgsqlConnection connection, int queued)
    {
        if (!Due(queued))
        {
            return;
        }

        try
        {
            var command = new NpgsqlCommand(_analyze, connection);
            await using var _ = command.ConfigureAwait(false);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            // The chunk is committed whatever happens here. A server before PostgreSQL 12 (no SKIP_LOCKED), or one that
            // refuses the statement: autovacuum alone keeps the statistics from now on.
            if (ex is PostgresException)
            {
                lock (_gate)
                {
                    _unavailable = true;
                }
            }
        }
    }

    private bool Due(int queued)
    {
        lock (_gate)
        {
            _queuedSinceAnalyze += queued;
            var now = time.GetTimestamp();
            if (_unavailable || _queuedSinceAnalyze < RowsBetweenAnalyzes || (_analyzedAt is { } last && time.GetElapsedTime(last, now) < MinimumInterval))
            {
                return false;
            }

            _queuedSinceAnalyze = 0;
            _analyzedAt = now;
            return true;
        }
    }
}
