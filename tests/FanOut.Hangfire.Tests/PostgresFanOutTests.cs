using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FanOut.Hangfire.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresFanOutTests(PostgresServer postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task CronFanOut_1000ItemsOnPostgres_EachItemAndHandlerSucceedsExactlyOnce()
    {
        var database = await postgres.CreateDatabaseAsync();
        var recorder = new Recorder();
        var items = TestItems.Numbered(1000);
        await using var host = await TestHost.StartAsync(TestHost.Postgres(database), fanOut => fanOut
            .AddCron<ListSource>("tenants", "0 9,12 * * MON,FRI", sends: "tenant/due")
            .AddHandler<RecordingHandler>("notify", on: "tenant/due")
            .AddHandler<RecordingHandler>("audit", on: "tenant/due"),
            services => services.AddSingleton(recorder).AddSingleton(items),
            workers: 8);

        var runId = await host.Client.TriggerAsync("tenants");

        await Wait.UntilAsync(() => JobCensus.Succeeded(host.Storage) >= 2001, Timeout, () => $"{JobCensus.Succeeded(host.Storage)} of 2001 jobs succeeded");
        recorder.CountOf("notify").Should().Be(1000);
        recorder.CountOf("audit").Should().Be(1000);
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems();
        recorder.Calls.Should().OnlyContain(c => c.Context.RunId == runId);

        var jobs = JobCensus.ChildJobs(host.Storage);
        jobs.Should().HaveCount(2000).And.OnlyContain(j => j.State == "Succeeded" && j.RunId == runId);
        jobs.Select(j => (j.HandlerId, j.ItemKey)).Should().OnlyHaveUniqueItems();
        (await CountRowsAsync(database, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%FanOutItemJob%'"))
            .Should().Be(2000, "the storage holds exactly one job per item and handler");

        var dispatch = host.Storage.GetMonitoringApi().SucceededJobs(0, 5000)
            .Single(j => j.Value.Job?.Type == typeof(FanOutDispatchJob));
        dispatch.Value.Result.Should().NotBeNull();
        dispatch.Value.Result!.ToString().Should().Contain("dispatched 1000 items as 2000 jobs");
    }

    [Fact]
    public async Task ChildJob_StoresHandlerIdAndItemJson_NeverUserTypeNames()
    {
        var database = await postgres.CreateDatabaseAsync();
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.Postgres(database), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(recorder),
            server: false);

        await host.Client.SendManyAsync("tenant/due", new[] { "t-1", "t-2" });

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT invocationdata::text || arguments::text FROM hangfire.job", connection);
        var stored = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }

        stored.Should().HaveCount(2);
        stored.Should().OnlyContain(s => s.Contains("notify") && s.Contains(typeof(FanOutItemJob).FullName!));
        stored.Should().NotContain(s => s.Contains(nameof(RecordingHandler)) || s.Contains("FanOut.Hangfire.Tests"),
            "only the handler id and the item's JSON are stored; Hangfire's own parameter types are system types");
    }

    [Fact]
    public async Task Dispatch_InterruptedBeforeChunkCommitOnPostgres_RetriesWithoutDuplicates()
    {
        var database = await postgres.CreateDatabaseAsync();
        await InterruptedDispatchScenario.RunAsync(TestHost.Postgres(database));
    }

    [Fact]
    public async Task Overlap_SecondFiringOnAnotherServer_IsSkippedWhileFirstDispatches()
    {
        var database = await postgres.CreateDatabaseAsync();
        var gate = new Gate();
        var items = TestItems.Numbered(10);
        var recorder = new Recorder();
        void Declare(IFanOutBuilder fanOut) => fanOut
            .AddCron<GatedSource>("slow", "0 0 1 1 *", sends: "tenant/due")
            .AddHandler<RecordingHandler>("notify", on: "tenant/due");
        void Services(IServiceCollection services) => services.AddSingleton(gate).AddSingleton(items).AddSingleton(recorder);

        await using var first = await TestHost.StartAsync(TestHost.Postgres(database), Declare, Services, workers: 2);
        await using var second = await TestHost.StartAsync(TestHost.Postgres(database), Declare, Services, workers: 2);

        first.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:slow");
        await Wait.UntilAsync(() => gate.Started == 1, Timeout, () => "the first dispatch to start");
        second.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:slow");

        await Wait.UntilAsync(
            () => JobCensus.DispatchResults(first.Storage).Any(r => r.StartsWith("Skipped", StringComparison.Ordinal)),
            Timeout,
            () => "the second firing to be skipped");
        gate.Open.SetResult();
        await Wait.UntilAsync(() => recorder.Calls.Count >= 10, Timeout, () => $"{recorder.Calls.Count} of 10 calls");

        gate.Started.Should().Be(1, "the skipped firing never reads the source");
        gate.MaxRunning.Should().Be(1);
        JobCensus.DispatchResults(first.Storage).Should().HaveCount(2);
        JobCensus.ChildJobs(first.Storage).Should().HaveCount(10);
    }


    private static async Task<long> CountRowsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
