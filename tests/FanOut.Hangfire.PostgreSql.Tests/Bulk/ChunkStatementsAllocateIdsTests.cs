using FanOut.Hangfire.PostgreSql.Bulk;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests.Bulk;

/// <summary>Taking ids is the one statement only a database can answer: it runs on the tests' PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ChunkStatementsAllocateIdsTests(PostgresServer postgres)
{
    [Fact]
    public async Task AllocateIds_TakesIdsFromTheSequencesItIsGiven_WhateverTheirNames()
    {
        var database = await postgres.CreateDatabaseAsync("statements_ids");
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        // The default names too, starting elsewhere, so that ids from them would show.
        await using (var create = new NpgsqlCommand(
            """
            CREATE SCHEMA "Fan""Out";
            CREATE SEQUENCE "Fan""Out"."job ids" START 1000;
            CREATE SEQUENCE "Fan""Out"."state's ids" START 5000;
            CREATE SEQUENCE "Fan""Out".job_id_seq;
            CREATE SEQUENCE "Fan""Out".state_id_seq;
            """,
            connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var statements = new ChunkStatements("Fan\"Out", "\"Fan\"\"Out\".\"job ids\"", "\"Fan\"\"Out\".\"state's ids\"");

        var (jobIds, stateIds) = statements.AllocateIds(connection, jobs: 3, states: 2);

        jobIds.Should().Equal(1000, 1001, 1002);
        stateIds.Should().Equal(5000, 5001);
    }
}
