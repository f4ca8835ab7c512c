using System.Collections.Concurrent;
using FanOut.Hangfire.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// Batch handlers through the fast path: a chunk's batch jobs are written in bulk with its item jobs, each batch holds
/// its items in order, and the run counts items exactly through a per-item failure and its retry.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BatchOnFastPathTests(PostgresServer postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task FastPath_BatchHandlerBesideAnItemHandler_WritesOneJobPerBatch_AndTheRunCountsItemsThroughARetry()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_batches");
        var batches = new Batches();
        await using var host = await TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 250);
                fanOut
                    .UsePostgreSqlDispatch()
                    .AddBatchHandler<FlakyBatchHandler>("bulk", on: "account/due", h =>
                    {
                        h.MaxBatchSize = 100;
                        h.RetryDelays.Add(TimeSpan.FromSeconds(1));
                    })
                    .AddHandler<RecordingHandler>("one", on: "account/due");
            },
            services => services.AddSingleton(batches).AddSingleton<Recorder>(),
            workers: 6);
        var items = Enumerable.Range(1, 500).Select(i => $"acct-{i}").ToList();

        var runId = await host.Client.SendManyAsync("account/due", items);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = await runs.GetAsync(runId)) is { Status: FanOutRunStatus.Completed },
            Timeout,
            () => $"run {runId}: {run?.Status}, {run?.Succeeded} succeeded, {run?.InFlight} in flight, {run?.Retrying} retrying");

        (host.Services.GetRequiredService<IFanOutChunkWriter>() is PostgreSqlChunkWriter { Decision.Target: not null }).Should().BeTrue("the fast path wrote the chunks");
        (await ScalarAsync(database, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%FanOutBatchJob%'"))
            .Should().Be(6, "two chunks of 250 make batches of 100, 100 and 50 each");
        (await ScalarAsync(database, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%FanOutItemJob%'")).Should().Be(500);
        var bulk = run!.Handlers.Single(h => h.HandlerId == "bulk");
        (bulk.Dispatched, bulk.Succeeded, bulk.Failed, bulk.Retrying).Should().Be((500L, 500L, 0L, 0L));
        run.Handlers.Single(h => h.HandlerId == "one").Succeeded.Should().Be(500);
        batches.Handled.Keys.Should().BeEquivalentTo(items);
        batches.Handled.Where(h => h.Value > 1).Select(h => h.Key).Should().BeEquivalentTo(
            items.Where(i => i.EndsWith('7')), "only the items that failed their first attempt were handed over again");
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public sealed class Batches
    {
        public ConcurrentDictionary<string, int> Handled { get; } = new();
    }

    /// <summary>Fails the items ending in 7 on their first attempt.</summary>
    public sealed class FlakyBatchHandler(Batches batches) : IFanOutBatchHandler<string>
    {
        public Task HandleAsync(IReadOnlyList<FanOutBatchItem<string>> items, FanOutBatchContext context, CancellationToken cancellationToken)
        {
            foreach (var item in items)
            {
                batches.Handled.AddOrUpdate(item.Item, 1, (_, n) => n + 1);
                if (context.Attempt == 1 && item.Item.EndsWith('7'))
                {
                    item.Fail(new InvalidOperationException($"{item.Item} was refused"));
                }
            }

            return Task.CompletedTask;
        }
    }
}
