using System.Net;
using System.Net.Sockets;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace FanOut.Hangfire.Tests.Hosting;

/// <summary>
/// <c>AddHealthChecks().AddFanOut()</c>, run through the <see cref="HealthCheckService"/> of real hosts with a real
/// Hangfire server: it says what keeps jobs from running, naming the run, fan-out, handler or queue.
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class FanOutHealthCheckTests
{
    private const string Event = "tenant/due";
    private const string Check = "fanout";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WellConfiguredHost_IsHealthy_WithItsServersQueuesAndOpenRuns()
    {
        // As the README registers it: the default name and failure status.
        await using var host = await StartAsync(
            fanOut => fanOut
                .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event, o => o.Queue = "critical")
                .AddHandler<RecordingHandler>("notify", on: Event)
                .AddCompletionHandler<CompletionRecorder>(of: "nightly"),
            health => health.AddFanOut());

        var entry = await WaitForServerAsync(host);

        entry.Status.Should().Be(HealthStatus.Healthy, entry.Description);
        entry.Description.Should().Contain("1 live Hangfire server(s)").And.Contain("0 open run(s)");
        entry.Data["liveServers"].Should().Be(1);
        entry.Data["openRuns"].Should().Be(0);
        entry.Data["declaredQueues"].Should().BeEquivalentTo(new[] { "critical", "default" });
        entry.Data.Should().NotContainKeys("stuckRuns", "queuesWithoutServer");
    }

    [Fact]
    public async Task HandlersQueue_WithNoLiveServer_IsDegraded_NamingTheQueueAndTheHandler()
    {
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<RecordingHandler>("post-to-slack", on: Event, o => o.Queue = "slack"),
            health => health.AddFanOut());

        var entry = await WaitForServerAsync(host);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("queue 'slack'").And.Contain("handler 'post-to-slack'").And.Contain("'default'");
        entry.Data["queuesWithoutServer"].Should().BeEquivalentTo(new[] { "slack" });
    }

    [Fact]
    public async Task QueueWithNoLiveServer_WithAFailureStatusGiven_ReportsThatStatus()
    {
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<RecordingHandler>("post-to-slack", on: Event, o => o.Queue = "slack"),
            health => health.AddFanOut(name: "jobs", failureStatus: HealthStatus.Unhealthy, tags: ["ready"]));

        var entry = await WaitForServerAsync(host, name: "jobs");

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("queue 'slack'");
        entry.Tags.Should().Equal("ready");
    }

    [Fact]
    public async Task NoLiveServerAtAll_IsDegraded()
    {
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<RecordingHandler>("notify", on: Event),
            health => health.AddFanOut(),
            server: false);

        var entry = await CheckAsync(host);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("No live Hangfire server").And.Contain("AddHangfireServer()");
        entry.Data["liveServers"].Should().Be(0);
    }

    [Fact]
    public async Task RunDispatching_WhoseLeaseRanOut_IsDegraded_NamingTheRunTheFanOutAndSinceWhen()
    {
        await using var host = await StartAsync(
            fanOut => fanOut
                .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("notify", on: Event),
            health => health.AddFanOut());
        await WaitForServerAsync(host);

        // A dispatch that started an hour ago and whose process died: its lease ran out 55 minutes ago.
        var anHourAgo = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-1));
        var runId = StageDispatchingRun(host, "nightly", anHourAgo);
        var expiredAt = anHourAgo.GetUtcNow() + host.Services.GetRequiredService<FanOutRegistry>().Options.DispatchLeaseDuration;

        var entry = await CheckAsync(host);

        entry.Status.Should().Be(HealthStatus.Degraded, entry.Description);
        entry.Description.Should()
            .Contain($"Run {runId} of cron fan-out 'nightly'")
            .And.Contain("stuck dispatching since " + expiredAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        entry.Data["stuckRuns"].Should().BeEquivalentTo(new[] { runId });
        entry.Data["openRuns"].Should().Be(1);
    }

    [Fact]
    public async Task RunDispatching_WhoseLeaseIsAlive_IsHealthy()
    {
        await using var host = await StartAsync(
            fanOut => fanOut
                .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("notify", on: Event),
            health => health.AddFanOut());
        await WaitForServerAsync(host);

        StageDispatchingRun(host, "nightly", TimeProvider.System);

        var entry = await CheckAsync(host);

        entry.Status.Should().Be(HealthStatus.Healthy, "a dispatch that renews its lease is working: {0}", entry.Description);
        entry.Data["openRuns"].Should().Be(1);
    }

    [Fact]
    public async Task StorageThatCannotBeReached_IsUnhealthy_WithTheErrorsMessage()
    {
        // PostgreSQL on a port nothing listens to. The host is built but not started: its start-up needs the storage.
        var port = LoopbackPort.Free();
        var connectionString = $"Host=127.0.0.1;Port={port};Database=fanout;Username=fanout;Password=fanout;Timeout=5;Pooling=false";
        var storage = new PostgreSqlStorage(
            new NpgsqlConnectionFactory(connectionString, new PostgreSqlStorageOptions()),
            new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = false });
        using var host = TestHost.Build(
            storage,
            fanOut => fanOut.AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton<Recorder>().AddHealthChecks().AddFanOut(),
            server: false);
        try
        {
            var entry = await CheckAsync(host.Services);

            entry.Status.Should().Be(HealthStatus.Unhealthy);
            entry.Exception.Should().BeOfType<Npgsql.NpgsqlException>();
            entry.Description.Should().Be("The Hangfire storage cannot be reached: " + entry.Exception!.Message)
                .And.Contain($"127.0.0.1:{port}");
        }
        finally
        {
            // AddHangfire points Hangfire's static log provider at this host's logger factory, disposed with it.
            global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        }
    }

    [Fact]
    public async Task StorageThatHangs_IsAnsweredWhenTheTimeoutRunsOut_WithTheFailureStatus()
    {
        // A port that accepts connections and never answers: PostgreSQL's handshake waits for its 30 s timeout.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var storage = new PostgreSqlStorage(
            new NpgsqlConnectionFactory($"Host=127.0.0.1;Port={port};Database=fanout;Username=fanout;Password=fanout;Timeout=30;Pooling=false", new PostgreSqlStorageOptions()),
            new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = false });
        using var host = TestHost.Build(
            storage,
            fanOut => fanOut.AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton<Recorder>().AddHealthChecks().AddFanOut(timeout: TimeSpan.FromSeconds(1)),
            server: false);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var entry = await CheckAsync(host.Services);

            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), "the probe is answered when its timeout runs out, not when the storage call gives up");
            entry.Status.Should().Be(HealthStatus.Degraded);
            entry.Description.Should().Contain("timeout");
        }
        finally
        {
            silent.Stop();
            global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        }
    }

    [Fact]
    public async Task HealthCheck_WithoutAddFanOut_ThrowsNamingTheMissingCall()
    {
        await using var provider = new ServiceCollection().AddLogging().AddHealthChecks().AddFanOut().Services.BuildServiceProvider();

        var check = () => provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        (await check.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("services.AddFanOut()");
    }

    [Fact]
    public void AddFanOut_NullBuilder_ThrowsNamingTheBuilder()
    {
        var add = () => FanOutHealthChecksBuilderExtensions.AddFanOut(null!);

        add.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("builder");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    public void AddFanOut_NoName_ThrowsNamingTheName(string? name)
    {
        var add = () => new ServiceCollection().AddHealthChecks().AddFanOut(name: name!);

        add.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("name");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void AddFanOut_TimeoutNotPositive_ThrowsNamingTheTimeout(int seconds)
    {
        var add = () => new ServiceCollection().AddHealthChecks().AddFanOut(timeout: TimeSpan.FromSeconds(seconds));

        add.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timeout");
    }

    private static Task<TestHost> StartAsync(Action<IFanOutBuilder> configure, Action<IHealthChecksBuilder> health, bool server = true) =>
        TestHost.StartAsync(
            TestHost.InMemory(),
            configure,
            services =>
            {
                services.AddSingleton<Recorder>().AddSingleton(new TestItems()).AddSingleton<CompletionRecorder>();
                health(services.AddHealthChecks());
            },
            server: server);

    private static Task<HealthReportEntry> CheckAsync(TestHost host, string name = Check) => CheckAsync(host.Services, name);

    private static async Task<HealthReportEntry> CheckAsync(IServiceProvider services, string name = Check)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        report.Entries.Should().ContainKey(name);
        return report.Entries[name];
    }

    /// <summary>Checks until the host's Hangfire server has announced itself in storage; returns that check.</summary>
    private static async Task<HealthReportEntry> WaitForServerAsync(TestHost host, string name = Check)
    {
        HealthReportEntry entry = default;
        await Wait.UntilAsync(
            async () =>
            {
                entry = await CheckAsync(host, name);
                return entry.Data.TryGetValue("liveServers", out var live) && (int)live > 0;
            },
            Timeout,
            () => $"the host's Hangfire server in storage: {entry.Status} {entry.Description}");
        return entry;
    }

    /// <summary>Records a cron run as dispatching, its lease taken at <paramref name="time"/>'s now, as a dispatch starting then does.</summary>
    private static string StageDispatchingRun(TestHost host, string fanOutId, TimeProvider time)
    {
        var hangfire = host.Services.GetRequiredService<HangfireServices>();
        var registry = host.Services.GetRequiredService<FanOutRegistry>();
        var cron = registry.FindCron(fanOutId)!;
        var runId = RunIds.New();
        using (var connection = hangfire.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            new RunStore(time).Start(transaction, runId, RunRecord.CronKind, fanOutId, cron.EventName, registry.FindEvent(cron.EventName)!.Handlers.Select(h => h.Id));
            transaction.Commit();
        }

        new DispatchLease(hangfire, registry, time).TryAcquire(fanOutId, DispatchLease.NewOwner(runId)).Should().BeNull("the fan-out's lease is free");
        return runId;
    }
}
