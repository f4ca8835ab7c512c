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

    public static async Task<BenchmarkPostgres> StartAsync(bool durable)
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
        if (server.IsSelfStarted)
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

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
