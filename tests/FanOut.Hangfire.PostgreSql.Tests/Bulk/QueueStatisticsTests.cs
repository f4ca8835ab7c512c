using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests.Bulk;

/// <summary>The queue table's statistics after the fast path queued a burst of jobs, and the plan Hangfire's fetch gets from them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueStatisticsTests(PostgresServer postgres)
{
    // Hangfire.PostgreSql 1.21's fetch (PostgreSqlJobQueue.Dequeue_Transaction), as its workers send it.
    private const string Fetch = """
        SELECT "id" FROM "hangfire"."jobqueue"
        WHERE "queue" = ANY (ARRAY['default'])
        AND ("fetchedat" IS NULL OR "fetchedat" < NOW() + INTERVAL '-1800 SECONDS')
        ORDER BY "fetchedat" NULLS FIRST, "queue", "jobid"
        FOR UPDATE SKIP LOCKED
        LIMIT 1
        """;

    [Fact]
    public async Task Dispatch_OfThousandsOnFastPath_LeavesTheFetchReadingTheQueueIndexInsteadOfSortingTheQueue()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_stats");
        await using var host = await TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut => fanOut.UsePostgreSqlDispatch().AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(new Recorder()),
            server: false);

        await host.Client.SendManyAsync("tenant/due", TestItems.Numbered(5_000).Ids);

        // Without statistics the planner takes the queue for nearly empty and sorts all of it for every fetch.
        var plan = await PlanAsync(database);
        plan.Should().NotContain("\"Node Type\": \"Sort\"", "a fetch that sorts the queue costs as much as the queue is long")
            .And.Contain("ix_hangfire_jobqueue_fetchedat_queue_jobid");
    }

    private static async Task<string> PlanAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + Fetch, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
