using System.Collections.Concurrent;
using FanOut.Hangfire.Dispatch;
using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>The PostgreSQL fast path at work: when it is used, what it guarantees, and when it steps aside.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlFastPathTests(PostgresServer postgres)
{
    // Where a filter lists every job it enqueues: a write the fast path does not make.
    private const string EnqueuedList = "fanout-test:enqueued";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Dispatch_InterruptedBeforeChunkCommitOnFastPath_RetriesWithoutDuplicatesOrLeftovers()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_crash");

        await InterruptedDispatchScenario.RunAsync(TestHost.Postgres(database), fanOut => fanOut.UsePostgreSqlDispatch());

        // The interrupted chunk's transaction rolled back whole: not even uninitialized jobs are left behind.
        (await ScalarAsync(database, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%FanOutItemJob%'"))
            .Should().Be(2_500);
        (await ScalarAsync(database, "SELECT count(*) FROM hangfire.job WHERE statename IS NULL")).Should().Be(0);
    }

    [Fact]
    public async Task FastPath_RunCounters_AreExactThroughFailures()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_counts");
        var recorder = new Recorder();
        var items = TestItems.Numbered(400);
        var broken = new BrokenItems();
        foreach (var id in items.Ids.Where((_, i) => i % 40 == 3))
        {
            broken.Keys[id] = true;
        }

        await using var host = await TestHost.StartAsync(TestHost.Postgres(database), fanOut => fanOut
            .UsePostgreSqlDispatch()
            .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
            .AddHandler<SometimesBrokenHandler>("notify", on: "tenant/due", o => o.RetryAttempts = 0)
            .AddHandler<RecordingHandler>("audit", on: "tenant/due")
            .Services.Configure<FanOutOptions>(o => o.ChunkSize = 150),
            services => services.AddSingleton(recorder).AddSingleton(items).AddSingleton(broken),
            workers: 8);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var runId = await host.Client.TriggerAsync("tenants");
        await Wait.UntilAsync(
            () => runs.GetAsync(runId).Result is { Status: FanOutRunStatus.CompletedWithFailures },
            Timeout,
            () => $"run {runId} to complete: {runs.GetAsync(runId).Result?.Status}");

        WriterOf(host).Decision.Target.Should().NotBeNull("the fast path was taken");
        var run = (await runs.GetAsync(runId))!;
        run.DispatchedItems.Should().Be(400);
        run.Handlers.Single(h => h.HandlerId == "notify")
            .Should().BeEquivalentTo(new { Dispatched = 400L, Succeeded = 390L, Failed = 10L, Deleted = 0L, InFlight = 0L });
        run.Handlers.Single(h => h.HandlerId == "audit")
            .Should().BeEquivalentTo(new { Dispatched = 400L, Succeeded = 400L, Failed = 0L, InFlight = 0L });
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems().And.HaveCount(790);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Dispatch_OnEitherPath_ReadsTheStreamAtMostTwoChunksAheadOfWhatIsCommitted(bool fastPath)
    {
        const int chunkSize = 100;
        var database = await postgres.CreateDatabaseAsync("fastpath_stream");
        var read = 0L;
        var ahead = new ConcurrentBag<long>();
        var hooks = new DispatchHooks { ChunkCommitting = (_, next) => ahead.Add(Interlocked.Read(ref read) - next.Items) };
        await using var host = await StartSendingHostAsync(database, chunkSize, fastPath, hooks);

        async IAsyncEnumerable<string> Items()
        {
            for (var i = 0; i < 1_250; i++)
            {
                Interlocked.Increment(ref read);
                yield return $"t-{i}";
            }

            await Task.CompletedTask;
        }

        await host.Client.SendManyAsync("tenant/due", Items());

        // The generic path commits each chunk before reading on; the fast path reads the next chunk while the one before
        // commits, so it reads up to two chunks past what committed. Either way memory is bounded by the chunk size.
        ahead.Should().HaveCount(13).And.OnlyContain(a => a >= 0 && a <= (fastPath ? 2 * chunkSize : 0));
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(1_250);
        (host.Services.GetRequiredService<IFanOutChunkWriter>() is PostgreSqlChunkWriter { Decision.Target: not null }).Should().Be(fastPath);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Send_AChunkFailingAtCommit_TheChunksAfterItNeverCommit_AndTheSendReportsWhatDid(bool fastPath)
    {
        // The fast path writes the next chunk while the previous one commits; a failed commit must stop it all the same.
        const int chunkSize = 100;
        var database = await postgres.CreateDatabaseAsync("fastpath_order");
        var hooks = new DispatchHooks
        {
            ChunkCommitting = (_, next) =>
            {
                if (next.Items == 3 * chunkSize)
                {
                    throw new InvalidOperationException("Simulated failure while the third chunk commits");
                }
            },
        };
        await using var host = await StartSendingHostAsync(database, chunkSize, fastPath, hooks);

        var send = () => host.Client.SendManyAsync("tenant/due", Enumerable.Range(0, 1_000).Select(i => $"t-{i}"));

        var failure = (await send.Should().ThrowAsync<FanOutSendException>()).Which;
        failure.ItemsSent.Should().Be(2 * chunkSize, "the two chunks before the failed one committed, and nothing after it");
        failure.Message.Should().Contain("third chunk");
        JobCensus.ChildJobs(host.Storage).Where(j => j.RunId == failure.RunId).Select(j => j.ItemKey).Should()
            .BeEquivalentTo(Enumerable.Range(0, 2 * chunkSize).Select(i => $"t-{i}"));
        (await host.Services.GetRequiredService<IFanOutRuns>().GetAsync(failure.RunId))!.DispatchedItems.Should().Be(2 * chunkSize);
        (await ScalarAsync(database, "SELECT count(*) FROM hangfire.job WHERE statename IS NULL"))
            .Should().Be(fastPath ? 0 : chunkSize, "the generic path leaves the failed chunk's uninitialized jobs to expire; the fast path rolls them back");
        (host.Services.GetRequiredService<IFanOutChunkWriter>() is PostgreSqlChunkWriter { Decision.Target: not null }).Should().Be(fastPath);
    }

    [Fact]
    public async Task UsePostgreSqlDispatch_OnPostgres_LogsTheFastPathOnceAtFirstDispatch()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_log");
        var logs = new LogCapture();
        await using var host = await TestHost.StartAsync(TestHost.Postgres(database), Declare, logs.AddTo, server: false);
        logs.Entries.Should().BeEmpty("nothing is probed before the first dispatch");

        await host.Client.SendManyAsync("tenant/due", new[] { "t-1", "t-2" });
        await host.Client.SendManyAsync("tenant/due", new[] { "t-3" });

        logs.Entries.Should().ContainSingle().Which.Should().Match<(LogLevel Level, string Message)>(e =>
            e.Level == LogLevel.Information && e.Message.Contains("PostgreSQL fast path") && e.Message.Contains("version 23"));
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(3);
    }

    [Fact]
    public async Task UsePostgreSqlDispatch_OnAnotherStorage_UsesTheGenericPathAndSaysWhy()
    {
        var logs = new LogCapture();

        // Without the default expiration cap, which the core warns about on its own.
        var storage = new global::Hangfire.InMemory.InMemoryStorage(new global::Hangfire.InMemory.InMemoryStorageOptions { MaxExpirationTime = null });
        await using var host = await TestHost.StartAsync(storage, Declare, logs.AddTo, server: false);

        await host.Client.SendManyAsync("tenant/due", new[] { "t-1", "t-2" });

        WriterOf(host).Decision.Target.Should().BeNull();
        logs.Entries.Should().ContainSingle().Which.Message.Should()
            .Contain("generic Hangfire path").And.Contain("InMemoryStorage").And.Contain("not Hangfire.PostgreSql's PostgreSqlStorage");
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(2);
    }

    [Fact]
    public async Task UsePostgreSqlDispatch_SchemaVersionItDoesNotKnow_UsesTheGenericPath_AndWarnsOnceOnTheFanOutPage()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_schema");
        var storage = TestHost.Postgres(database);
        await ScalarAsync(database, "UPDATE hangfire.schema SET version = 24; SELECT 0::bigint");
        var logs = new LogCapture();
        await using var host = await TestHost.StartAsync(storage, Declare, logs.AddTo, server: false);

        await host.Client.SendManyAsync("tenant/due", new[] { "t-1", "t-2" });
        await host.Client.SendManyAsync("tenant/due", new[] { "t-3" });

        WriterOf(host).Decision.Target.Should().BeNull();
        logs.Entries.Where(e => e.Level == LogLevel.Information).Should().ContainSingle()
            .Which.Message.Should().Contain("generic Hangfire path").And.Contain("version 24");
        var warning = logs.Entries.Where(e => e.Level == LogLevel.Warning).Should().ContainSingle("a decline is warned about once").Subject.Message;
        warning.Should().Contain("fast path").And.Contain("is off").And.Contain("version 24").And.Contain("30 times slower");
        host.Services.GetRequiredService<IFanOutCatalog>().Warnings.Select(w => w.Message).Should().Equal([warning], "the Fan-out page shows it");
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(3);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    public async Task UsePostgreSqlDispatch_LongPollingWithoutKeepalive_WarnsOnceThatAFetchedJobCanBeHeld(int keepalive, int warnings)
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_keepalive");
        var options = new PostgreSqlStorageOptions { EnableLongPolling = true, PrepareSchemaIfNecessary = true };
        var connectionString = new NpgsqlConnectionStringBuilder(database) { KeepAlive = keepalive }.ConnectionString;
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        var logs = new LogCapture();
        await using var host = await TestHost.StartAsync(storage, Declare, logs.AddTo, server: false);

        await host.Client.SendManyAsync("tenant/due", new[] { "t-1" });
        await host.Client.SendManyAsync("tenant/due", new[] { "t-2" });

        var warned = logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        warned.Should().HaveCount(warnings);
        warned.Should().NotContain(m => !m.Contains("long polling") || !m.Contains("Keepalive=1"));
        WriterOf(host).Decision.Target.Should().NotBeNull();
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(2);
    }

    [Fact]
    public async Task FastPath_CustomSchemaWithLongPolling_NotifiesListenersAndItsJobsRun()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_schema_name");
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = "fan out jobs",
            EnableLongPolling = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            PrepareSchemaIfNecessary = true,
        };
        // Keepalive bounds a wait Hangfire.PostgreSql cancels after every fetch: Npgsql 10 can lose that cancellation, and
        // without a keepalive the worker then holds its fetched job until the next NOTIFY (see the README's limits).
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(new NpgsqlConnectionStringBuilder(database) { KeepAlive = 1 }.ConnectionString, options), options);
        await using var listener = new NpgsqlConnection(database);
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand("LISTEN new_job", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var notified = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, e) => notified.TrySetResult(e.Channel);
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(storage, Declare, services => services.AddSingleton(recorder));

        await host.Client.SendManyAsync("tenant/due", Enumerable.Range(0, 60).Select(i => $"t-{i}"));
        await listener.WaitAsync(TimeSpan.FromSeconds(30));

        (await notified.Task.WaitAsync(TimeSpan.FromSeconds(5))).Should().Be("new_job");
        WriterOf(host).Decision.Description.Should().Contain("schema \"fan out jobs\"");
        await Wait.UntilAsync(
            () => host.Storage.GetMonitoringApi().SucceededListCount() >= 60,
            Timeout,
            () => $"{recorder.Calls.Count} of 60 calls; jobs by state and queue entries: " + TextAsync(database, """
                SELECT string_agg(coalesce(statename, 'none') || '=' || n, ', ')
                       || '; queued=' || (SELECT count(*) FROM "fan out jobs".jobqueue)
                       || ', fetched=' || (SELECT count(fetchedat) FROM "fan out jobs".jobqueue)
                FROM (SELECT statename, count(*) n FROM "fan out jobs".job GROUP BY 1) s
                """).Result);
        recorder.Calls.Select(c => c.Key).Should().OnlyHaveUniqueItems().And.HaveCount(60);
        (await ScalarAsync(database, "SELECT count(*) FROM \"fan out jobs\".job WHERE statename = 'Succeeded'")).Should().Be(60);
    }

    [Fact]
    public async Task FastPath_IdleWorkersInThisProcess_AreWokenWithoutWaitingForThePollInterval()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_wake");
        var options = new PostgreSqlStorageOptions { QueuePollInterval = TimeSpan.FromMinutes(5), PrepareSchemaIfNecessary = true };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(database, options), options);
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(storage, Declare, services => services.AddSingleton(recorder), workers: 2);

        // Each round is sent once the workers found the queue empty and went to wait; only a signal wakes them in time.
        for (var round = 1; round <= 3; round++)
        {
            await Wait.UntilAsync(() => storage.GetMonitoringApi().ProcessingCount() == 0, Timeout, () => "the workers to go idle");
            await host.Client.SendManyAsync("tenant/due", Enumerable.Range(0, 10).Select(i => $"r{round}-{i}"));
            await Wait.UntilAsync(() => recorder.Calls.Count >= round * 10, TimeSpan.FromSeconds(30), () => $"{recorder.Calls.Count} of {round * 10} calls");
        }

        WriterOf(host).Decision.Target.Should().NotBeNull();
    }

    [Fact]
    public async Task FastPath_FilterMakingAWriteItDoesNotMake_FallsBackAndCreatesEachJobOnce()
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_fallback");
        var logs = new LogCapture();
        var hooks = new DispatchHooks();
        var commits = new ConcurrentBag<long>();
        hooks.ChunkCommitting = (_, next) => commits.Add(next.Items);
        await using var host = await TestHost.StartAsync(TestHost.Postgres(database), fanOut =>
        {
            Declare(fanOut);
            fanOut.Services.Configure<FanOutOptions>(o => o.ChunkSize = 20);
        },
        services =>
        {
            logs.AddTo(services);
            services.AddSingleton(hooks);
            services.AddSingleton<IJobFilterProvider>(new ListingFilterProvider<EnqueuedState>(EnqueuedList));
        },
        server: false);

        var runId = await host.Client.SendManyAsync("tenant/due", Enumerable.Range(0, 50).Select(i => $"t-{i}"));

        WriterOf(host).Decision.Target.Should().BeNull();
        logs.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.Message.Contains(nameof(IWriteOnlyTransaction.InsertToList)));
        JobCensus.ChildJobs(host.Storage).Where(j => j.RunId == runId).Select(j => j.ItemKey).Should().OnlyHaveUniqueItems().And.HaveCount(50);
        using var connection = (JobStorageConnection)host.Storage.GetConnection();
        connection.GetListCount(EnqueuedList).Should().Be(50);
        commits.Should().BeEquivalentTo(new long[] { 20, 40, 50 }, "the chunk that fell back was not committed twice");
    }

    [Fact]
    public void UsePostgreSqlDispatch_NullBuilder_ThrowsNamingTheBuilder()
    {
        var act = () => PostgreSqlFanOutBuilderExtensions.UsePostgreSqlDispatch(null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("builder");
    }

    [Fact]
    public void UsePostgreSqlDispatch_CalledTwice_RegistersOneWriter()
    {
        var services = new ServiceCollection();

        services.AddFanOut().UsePostgreSqlDispatch().UsePostgreSqlDispatch();

        services.Where(d => d.ServiceType == typeof(IFanOutChunkWriter)).Should().ContainSingle()
            .Which.ImplementationType.Should().Be<PostgreSqlChunkWriter>();
    }

    private static void Declare(IFanOutBuilder fanOut)
    {
        fanOut.UsePostgreSqlDispatch().AddHandler<RecordingHandler>("notify", on: "tenant/due");
        fanOut.Services.TryAddSingleton<Recorder>();
    }

    /// <summary>A host without a server that sends to one handler in chunks of <paramref name="chunkSize"/>, on either path.</summary>
    private static Task<TestHost> StartSendingHostAsync(string database, int chunkSize, bool fastPath, DispatchHooks hooks) =>
        TestHost.StartAsync(TestHost.Postgres(database), fanOut =>
        {
            fanOut.AddHandler<RecordingHandler>("notify", on: "tenant/due").Services.Configure<FanOutOptions>(o => o.ChunkSize = chunkSize);
            if (fastPath)
            {
                fanOut.UsePostgreSqlDispatch();
            }
        },
        services => services.AddSingleton(new Recorder()).AddSingleton(hooks),
        server: false);

    private static PostgreSqlChunkWriter WriterOf(TestHost host) =>
        (PostgreSqlChunkWriter)host.Services.GetRequiredService<IFanOutChunkWriter>();

    private static async Task<string> TextAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Collects what the fast path's writer logs, and the warnings it reports through the core.</summary>
    private sealed class LogCapture : ILoggerProvider
    {
        private static readonly string[] Categories = [typeof(PostgreSqlChunkWriter).FullName!, typeof(FanOut.Hangfire.Telemetry.FanOutWarnings).FullName!];

        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public void AddTo(IServiceCollection services) => services.AddLogging(logging =>
        {
            logging.AddProvider(this);
            foreach (var category in Categories)
            {
                logging.AddFilter<LogCapture>(category, LogLevel.Information);
            }
        });

        public ILogger CreateLogger(string categoryName) =>
            Categories.Contains(categoryName) ? new Logger(Entries) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<(LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
