using Npgsql;

namespace FanOut.Hangfire.Tests.Infrastructure;

[Collection(PostgresCollection.Name)]
public sealed class PostgresServerTests(PostgresServer server)
{
    [Fact]
    public async Task CreateDatabase_ReturnsAWorkingDatabase()
    {
        var connectionString = await server.CreateDatabaseAsync("server_tests");

        var result = await ScalarAsync<int>(connectionString, "SELECT 1");

        result.Should().Be(1);
        (await ScalarAsync<string>(connectionString, "SELECT current_database()"))
            .Should().Be(new NpgsqlConnectionStringBuilder(connectionString).Database);
    }

    [Fact]
    public async Task CreateDatabase_TwiceGivesTwoDifferentDatabases()
    {
        var first = await server.CreateDatabaseAsync();
        var second = await server.CreateDatabaseAsync();

        var firstName = await ScalarAsync<string>(first, "SELECT current_database()");
        var secondName = await ScalarAsync<string>(second, "SELECT current_database()");
        await ScalarAsync<int>(first, "CREATE TABLE only_in_first (id int); SELECT 1");

        firstName.Should().NotBe(secondName);
        (await ScalarAsync<bool>(second, "SELECT to_regclass('only_in_first') IS NULL")).Should().BeTrue();
    }

    [Fact]
    public async Task StopAndStart_KeepsTheDatabases()
    {
        if (!server.IsSelfStarted)
        {
            // An external server is not ours to stop.
            await server.Invoking(s => s.StopAsync()).Should().ThrowAsync<InvalidOperationException>()
                .WithMessage($"*{PostgresServer.ConnectionStringVariable}*");
            return;
        }

        var connectionString = await server.CreateDatabaseAsync("server_restart");
        await ScalarAsync<int>(connectionString, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7); SELECT 1");

        await server.StopAsync();
        try
        {
            await FluentActions.Invoking(() => ScalarAsync<int>(connectionString, "SELECT 1"))
                .Should().ThrowAsync<NpgsqlException>();
        }
        finally
        {
            await server.StartAsync();
        }

        (await ScalarAsync<int>(connectionString, "SELECT id FROM kept")).Should().Be(7);
    }

    [Fact]
    public async Task Initialize_WithoutBinaries_SaysWhatIsMissingAndHowToFix()
    {
        var missingFolder = Path.Combine(Path.GetTempPath(), $"fanout-no-postgres-{Guid.NewGuid():N}");
        var withoutBinaries = new PostgresServer(externalConnectionString: null, binDirectoryOverride: missingFolder);
        try
        {
            await withoutBinaries.Invoking(s => s.InitializeAsync()).Should().ThrowAsync<InvalidOperationException>()
                .WithMessage("*initdb, pg_ctl*not found*apt-get install -y postgresql*FANOUT_TEST_POSTGRES*");
        }
        finally
        {
            await withoutBinaries.DisposeAsync();
        }
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
