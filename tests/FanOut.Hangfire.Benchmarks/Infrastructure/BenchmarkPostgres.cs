using FanOut.Hangfire.Tests.Infrastructure;
using Npgsql;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>
/// PostgreSQL for the benchmarks: the server named by <c>FANOUT_BENCH_POSTGRES</c>, or else a throwaway cluster started
/// the way the tests start theirs. Every measurement gets a fresh database.
/// </summary>
internal sealed class BenchmarkPostgres : IAsyncDisposable
{
    public const string ConnectionStringVariable = "FANOUT_BENCH_POSTGRES";

    private readonly PostgresServer _server;

    private BenchmarkPostgres(PostgresServer server, string version)
    {
        _server = server;
        Version = version;
    }

    /// <summary>The server's version, for the tables.</summary>
    public string Version { get; }

    public static async Task<BenchmarkPostgres> StartAsync()
    {
        var server = new PostgresServer(
            Environment.GetEnvironmentVariable(ConnectionStringVariable),
            Environment.GetEnvironmentVariable(PostgresServer.BinDirectoryVariable));
        await server.InitializeAsync();
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SHOW server_version", connection);
        var version = (string)(await command.ExecuteScalarAsync())!;
        return new BenchmarkPostgres(server, version);
    }

    public Task<string> CreateDatabaseAsync(string name) => _server.CreateDatabaseAsync("bench_" + name);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
