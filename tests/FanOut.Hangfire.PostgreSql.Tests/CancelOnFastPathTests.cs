using FanOut.Hangfire.Flow;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// A cancel with the fast path (design.md invariant 15): the run's jobs waiting for a slot are deleted in batches read in
/// one query and written in a few statements, and each ends exactly as the generic path leaves it: deleted once, counted,
/// out of the limit's line, with the other runs' jobs untouched and the limit going on. A filter that makes a write the
/// fast path does not make sends the batch the generic way, with nothing of its first attempt committed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CancelOnFastPathTests(PostgresServer postgres)
{
    private const string Event = "tenant/due";
    private const int Cancelled = 450;
    private const int Other = 20;
    private const string DeletedList = "fanout-test:deleted";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cancel_WaitingJobsOnTheFastPath_DeletesEachOnceWithExactCounts_LeavesAnotherRunsJobs_AndTheLimitGoesOn(bool filterWritingAList)
    {
        var database = await postgres.CreateDatabaseAsync("cancel_fastpath");
        var held = new HeldCalls();
        await using var host = await TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut => fanOut
                .UsePostgreSqlDispatch()
                .AddHandler<HeldHandler>("held", on: Event, h => h.ConcurrencyLimit = 1),
            services =>
            {
                services.AddSingleton(held);
                if (filterWritingAList)
                {
                    services.AddSingleton<IJobFilterProvider>(new ListingFilterProvider<DeletedState>(DeletedList));
                }
            },
            workers: 3);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var cancelledRun = await host.Client.SendManyAsync(Event, TestItems.Numbered(Cancelled, "a-").Ids);
        await Wait.UntilAsync(
            async () => held.Started == 1 && await WaitingAsync(runs, cancelledRun) == Cancelled - 1,
            Timeout,
            () => $"{held.Started} calls started, {WaitingAsync(runs, cancelledRun).GetAwaiter().GetResult()} jobs waiting");
        var otherRun = await host.Client.SendManyAsync(Event, TestItems.Numbered(Other, "b-").Ids);
        await Wait.UntilAsync(async () => await WaitingAsync(runs, otherRun) == Other, Timeout, () => "the other run's jobs waiting");
        var deletedBefore = host.Storage.GetMonitoringApi().GetStatistics().Deleted;

        var result = await runs.CancelAsync(cancelledRun);

        result.Outcome.Should().Be(FanOutCancelOutcome.Cancelled);
        var run = await CompletedAsync(runs, cancelledRun);
        run.Status.Should().Be(FanOutRunStatus.Cancelled);
        run.Deleted.Should().Be(Cancelled, "the waiting jobs were deleted, and the running call ended on its token");
        run.Succeeded.Should().Be(0);
        run.Handlers.Single().Waiting.Should().Be(0);
        var jobs = await JobsOfAsync(database, cancelledRun);
        jobs.Should().HaveCount(Cancelled);
        jobs.Should().OnlyContain(j => j.State == "Deleted" && j.DeletedStates == 1 && j.Expires, "each job is deleted once, and expires as a deleted job does");
        host.Storage.GetMonitoringApi().GetStatistics().Deleted.Should().Be(deletedBefore + Cancelled, "Hangfire's deleted counter counts each job once");
        var writer = host.Services.GetRequiredService<IFanOutStateChangeWriter>().Should().BeOfType<PostgreSqlStateChangeWriter>().Subject;
        if (filterWritingAList)
        {
            writer.Decision.Target.Should().BeNull("a batch made a write the fast path does not make, and went the generic way");
            using var connection = (JobStorageConnection)host.Storage.GetConnection();
            connection.GetListCount(DeletedList).Should().Be(Cancelled, "the filter ran once per deleted job: the batch that fell back was not committed twice");
        }
        else
        {
            writer.Decision.Target.Should().NotBeNull("the batches took the fast path");
        }

        // The other run's jobs were left waiting, and get the slot in turn; a run sent afterwards does too.
        var other = await CompletedAsync(runs, otherRun);
        other.Status.Should().Be(FanOutRunStatus.Completed);
        other.Succeeded.Should().Be(Other);
        other.Deleted.Should().Be(0);
        (await JobsOfAsync(database, otherRun)).Should().HaveCount(Other).And.OnlyContain(j => j.State == "Succeeded" && j.DeletedStates == 0);
        var later = await host.Client.SendManyAsync(Event, TestItems.Numbered(5, "c-").Ids);
        (await CompletedAsync(runs, later)).Succeeded.Should().Be(5);
        var limit = (await runs.GetLimitsAsync()).Single();
        limit.Running.Should().Be(0, "every slot was let go");
        limit.Waiting.Should().Be(0);
        (await FlowMembersAsync(database)).Should().Be(0, "no job is left in the limit's running or waiting sets, or in its round");
    }

    [Fact]
    public async Task Cancel_JobsParkedForAThrottledStartOnTheFastPath_DeletesEachOnce_AndLeavesNoDueStart()
    {
        const int items = 120;
        var database = await postgres.CreateDatabaseAsync("cancel_parked");
        await using var host = await TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut => fanOut
                .UsePostgreSqlDispatch()
                .AddHandler<HeldHandler>("throttled", on: Event, h =>
                {
                    h.Throttle.PermitLimit = 1;
                    h.Throttle.Window = TimeSpan.FromHours(1);
                }),
            services => services.AddSingleton(new HeldCalls()),
            workers: 2);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var runId = await host.Client.SendManyAsync(Event, TestItems.Numbered(items, "p-").Ids);
        await Wait.UntilAsync(
            async () => (await runs.GetAsync(runId)) is { Succeeded: 1 } run && run.Handlers.Single().Waiting == items - 1,
            Timeout,
            () => "one start made and the others parked for theirs");

        await runs.CancelAsync(runId);

        var cancelled = await CompletedAsync(runs, runId);
        cancelled.Status.Should().Be(FanOutRunStatus.Cancelled);
        cancelled.Deleted.Should().Be(items - 1, "every parked job was deleted");
        cancelled.Succeeded.Should().Be(1);
        (await JobsOfAsync(database, runId)).Where(j => j.State != "Succeeded")
            .Should().HaveCount(items - 1).And.OnlyContain(j => j.State == "Deleted" && j.DeletedStates == 1);
        (await FlowMembersAsync(database)).Should().Be(0, "no parked start is left due");
    }

    private static async Task<long> WaitingAsync(IFanOutRuns runs, string runId) => (await runs.GetAsync(runId))?.Handlers.Sum(h => h.Waiting) ?? -1;

    private static async Task<FanOutRun> CompletedAsync(IFanOutRuns runs, string runId)
    {
        FanOutRun? run = null;
        await Wait.UntilAsync(
            async () => (run = await runs.GetAsync(runId)) is { CompletedAt: not null },
            Timeout,
            () => $"run {runId}: {run?.Status}, {run?.InFlight} in flight, {run?.Deleted} deleted");
        return run!;
    }

    // Each job of the run as stored: its state, how many Deleted states its history holds, and whether it expires.
    private static async Task<List<(string State, long DeletedStates, bool Expires)>> JobsOfAsync(string database, string runId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT "j"."statename", (SELECT count(*) FROM "hangfire"."state" AS "s" WHERE "s"."jobid" = "j"."id" AND "s"."name" = 'Deleted'),
                   "j"."expireat" IS NOT NULL
            FROM "hangfire"."job" AS "j"
            WHERE "j"."invocationdata"->>'Type' LIKE 'FanOut.Hangfire.Jobs.FanOutItemJob%' AND "j"."arguments"->>1 = $1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = System.Text.Json.JsonSerializer.Serialize(runId) });
        var jobs = new List<(string, long, bool)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            jobs.Add((reader.GetString(0), reader.GetInt64(1), reader.GetBoolean(2)));
        }

        return jobs;
    }

    private static async Task<long> FlowMembersAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT count(*) FROM "hangfire"."set" WHERE "key" LIKE 'fanout:flow:%' OR "key" = 'fanout:flow-due'""", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Counts the calls of the cancelled run's items, which are held until their token fires.</summary>
    public sealed class HeldCalls
    {
        private int _started;

        public int Started => Volatile.Read(ref _started);

        internal void Start() => Interlocked.Increment(ref _started);
    }

    /// <summary>Holds a call of an <c>a-</c> item until its token fires; any other item returns at once.</summary>
    public sealed class HeldHandler(HeldCalls calls) : IFanOutHandler<string>
    {
        public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
        {
            if (!item.StartsWith("a-", StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            calls.Start();
            return Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        }
    }
}
