using FanOut.Hangfire.Testing;
using Npgsql;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>
/// PostgreSQL for the benchmarks: the server named by <c>FANOUT_BENCH_POSTGRES</c>, or else a throwaway cluster started
/// the way the tests start theirs, but with PostgreSQL's own durable commits unless told otherwise: the plain loop commits
/// twice per job, so a server that does not flush its commits would flatter it. Every measurement gets a fresh database.
/// </summary>
internal sealed class BenchmarkPostgres : IAsyncDisposable
{
    public const string ConnectionStringVariable = "FANOUT_BENCH_POSTGRES";

    private readonly PostgresServer _server;
    private bool _checkpoints = true;

    private BenchmarkPostgres(PostgresServer server, string description)
    {
        _server = server;
        Description = description;
    }

    /// <summary>The server's version and how it commits, for the tables.</summary>
    public string Description { get; }

    /// <summary>
    /// Starts the throwaway cluster (or uses the one named by the environment). <paramref name="workersFetch"/>: whether
    /// the scenario runs jobs on workers, whose fetch query needs the queue table's statistics kept fresh (see below);
    /// a scenario that only creates jobs leaves autovacuum at PostgreSQL's default, as users have it, since analyzing
    /// the growing tables every second would take a third of the database's CPU from what it measures.
    /// </summary>
    public static async Task<BenchmarkPostgres> StartAsync(bool durable, bool workersFetch = true)
    {
        var server = new PostgresServer(
            Environment.GetEnvironmentVariable(ConnectionStringVariable),
            Environment.GetEnvironmentVariable(PostgresServer.BinDirectoryVariable))
        {
            DurableCommits = durable,
        };
        await server.InitializeAsync();
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        if (server.IsSelfStarted && workersFetch)
        {
            // Autovacuum visits one database at a time, and every measurement makes a new one: left at its default, it
            // reached a run's queue table or not by chance, and Hangfire's fetch query, slowed by the dead entries of
            // the jobs already done, cost up to twenty times more in one run than the next. Looking every second makes
            // runs repeatable, for plain Hangfire and FanOut alike.
            await using var settings = new NpgsqlCommand("ALTER SYSTEM SET autovacuum_naptime = '1s'; SELECT pg_reload_conf()", connection);
            await settings.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(
            "SELECT split_part(current_setting('server_version'), ' ', 1), current_setting('fsync'), current_setting('synchronous_commit')",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var commits = reader.GetString(1) == "on" && reader.GetString(2) == "on" ? "durable commits" : "fsync or synchronous_commit off";
        var where = server.IsSelfStarted ? "throwaway cluster" : ConnectionStringVariable;
        return new BenchmarkPostgres(server, $"PostgreSQL {reader.GetString(0)} on loopback ({where}, {commits})");
    }

    /// <summary>
    /// Creates a fresh database for one measurement, after a checkpoint: every measurement then starts with no dirty
    /// pages left by the one before and a whole WAL budget ahead, so none pays for another's writes.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        var database = await _server.CreateDatabaseAsync("bench_" + name);
        if (_checkpoints)
        {
            await using var connection = new NpgsqlConnection(_server.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 600 };
            try
            {
                await command.ExecuteNonQueryAsync();
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                _checkpoints = false;
                Console.WriteLine($"  (no checkpoint before each measurement: {ex.MessageText}; runs may pay for each other's writes)");
            }
        }

        return database;
    }

    /// <summary>
    /// Turns on <c>pg_stat_statements</c>, which counts every statement the server executes, per database: on the
    /// throwaway cluster by preloading it and restarting; on a server of one's own only if it is preloaded already.
    /// Returns false (and says why) when it cannot be had.
    /// </summary>
    public async Task<bool> CountStatementsAsync()
    {
        if (_server.IsSelfStarted)
        {
            await using (var connection = new NpgsqlConnection(_server.ConnectionString))
            {
                await connection.OpenAsync();

                // Its default room (5,000 distinct statements) holds a run's: the counts are reset before each run.
                await using var settings = new NpgsqlCommand("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'", connection);
                await settings.ExecuteNonQueryAsync();
            }

            await _server.StopAsync();
            await _server.StartAsync();
        }

        try
        {
            await using var connection = new NpgsqlConnection(_server.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT count(*) FROM pg_stat_statements", connection);
            await command.ExecuteScalarAsync();
            return true;
        }
        catch (PostgresException ex)
        {
            Console.WriteLine($"  (no statement counts: pg_stat_statements is not available: {ex.MessageText})");
            return false;
        }
    }

    /// <summary>Forgets the statement counts so far, so a long benchmark never evicts a run's entries.</summary>
    public async Task ResetStatementCountsAsync()
    {
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_stat_statements_reset()", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The statements executed in the database of <paramref name="connectionString"/> since the last reset, and how many
    /// of them were round trips: all but Npgsql's <c>DISCARD ALL</c> (the reset of a pooled connection) and <c>BEGIN</c>,
    /// which it sends in the same message as the statement after them.
    /// </summary>
    public async Task<(long Statements, long RoundTrips)> StatementsInAsync(string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(calls) FILTER (WHERE query NOT LIKE 'DISCARD ALL%' AND query NOT LIKE 'BEGIN%'), 0)::bigint " +
            "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = database });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The statements executed most often in the database of <paramref name="connectionString"/> since the last reset.</summary>
    public async Task<List<(long Calls, double Milliseconds, string Query)>> TopStatementsInAsync(string connectionString, int count)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT calls, total_exec_time, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements " +
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) ORDER BY calls DESC LIMIT $2",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = database });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)count });
        var top = new List<(long, double, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            top.Add((reader.GetInt64(0), reader.GetDouble(1), reader.GetString(2)));
        }

        return top;
    }

    /// <summary>
    /// Prints the <paramref name="count"/> statements executed most often in the database of <paramref name="connectionString"/>
    /// since the last reset, each with its calls per <paramref name="unit"/> (of which the run had <paramref name="units"/>)
    /// and its mean time.
    /// </summary>
    public async Task PrintTopStatementsAsync(string connectionString, int count, long units, string unit = "job")
    {
        foreach (var (times, ms, query) in await TopStatementsInAsync(connectionString, count))
        {
            Console.WriteLine($"    {Format.Plain((double)times / units, 2),6} per {unit} {Format.Plain(ms / times, 3),7} ms  {query[..Math.Min(query.Length, 150)]}");
        }
    }

    /// <summary>The CPU time of the throwaway cluster's processes so far (<see cref="ProcessCpu.OfPostgres"/>); null for a server of one's own.</summary>
    public TimeSpan? Cpu() =>
        _server.IsSelfStarted ? ProcessCpu.OfPostgres(new NpgsqlConnectionStringBuilder(_server.ConnectionString).Port) : null;

    /// <summary>
    /// The server's write-ahead log so far (<c>pg_stat_wal</c>): bytes written and the times it was flushed to disk, which
    /// a durable commit waits for (several commits waiting at once share one flush).
    /// </summary>
    public async Task<(long Bytes, long Flushes)> WalAsync()
    {
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT wal_bytes::bigint, wal_sync FROM pg_stat_wal", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
