using System.Collections.Concurrent;
using System.Net;
using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Telemetry;
using FanOut.Hangfire.Tests.Dashboard;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Hosting;

/// <summary>The silent misconfigurations that make jobs wait without a word get a warning, logged once and shown on the Fan-out page.</summary>
[Collection(HangfireCollection.Name)]
public sealed class ServerWatchTests
{
    private const string Event = "tenant/due";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly ServerWatchSettings Quick = new() { Interval = TimeSpan.FromMilliseconds(200), NoServerGrace = TimeSpan.FromSeconds(1) };

    [Fact]
    public async Task AHandlersQueue_NoLiveServerListensTo_IsWarnedOnce_AndClearedOnceAServerDoes()
    {
        var logs = new WarningLog();
        await using var host = await TestHost.StartAsync(UncappedInMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("post-to-slack", on: Event, o => o.Queue = "slack"),
            services => logs.AddTo(services.AddSingleton<Recorder>().AddSingleton(Quick)));
        var catalog = host.Services.GetRequiredService<IFanOutCatalog>();

        await host.Client.SendManyAsync(Event, new[] { "t-1", "t-2" });

        await Wait.UntilAsync(() => catalog.Warnings.Count > 0, Timeout, () => "a warning about queue 'slack'");
        catalog.Warnings.Should().ContainSingle().Which.Message.Should()
            .Contain("queue 'slack'").And.Contain("handler 'post-to-slack'").And.Contain("'default'").And.Contain("Queues");
        await Wait.UntilAsync(() => logs.Entries.Count > 0, Timeout, () => "the warning in the log");

        // Several more looks at the servers: the warning is not logged again while it lasts.
        var looks = host.Services.GetRequiredService<ServerWatch>();
        looks.Check();
        looks.Check();
        logs.Entries.Should().ContainSingle().Which.Should().Contain("queue 'slack'");

        using (new BackgroundJobServer(new BackgroundJobServerOptions { Queues = ["slack"], WorkerCount = 1, ServerName = "slack-server" }, host.Storage))
        {
            await Wait.UntilAsync(() => catalog.Warnings.Count == 0, Timeout, () => $"the warning to clear: {string.Join("; ", catalog.Warnings.Select(w => w.Message))}");
            await Wait.UntilAsync(() => host.Storage.GetMonitoringApi().SucceededListCount() >= 2, Timeout, () => "the jobs on 'slack' to run");
        }
    }

    [Fact]
    public async Task OpenRuns_WithNoHangfireServerInStorage_AreWarnedAboutAfterTheGrace()
    {
        await using var host = await TestHost.StartAsync(UncappedInMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton<Recorder>().AddSingleton(Quick),
            server: false);
        var catalog = host.Services.GetRequiredService<IFanOutCatalog>();
        catalog.Warnings.Should().BeEmpty();

        await host.Client.SendAsync(Event, "t-1");

        await Wait.UntilAsync(() => catalog.Warnings.Count > 0, Timeout, () => "a warning that no server runs the jobs");
        catalog.Warnings.Should().ContainSingle().Which.Message.Should().Contain("No Hangfire server").And.Contain("AddHangfireServer()");
    }

    [Fact]
    public async Task NoServer_ButNoOpenRun_IsNotWarnedAbout()
    {
        await using var host = await TestHost.StartAsync(UncappedInMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: Event, o => o.Queue = "slack"),
            services => services.AddSingleton<Recorder>().AddSingleton(Quick),
            server: false);
        var watch = host.Services.GetRequiredService<ServerWatch>();

        watch.Check();
        watch.Check();

        host.Services.GetRequiredService<IFanOutCatalog>().Warnings.Should().BeEmpty("a client-only process with nothing waiting has nothing to say");
    }

    [Fact]
    public void DeclaredQueues_NameWhatUsesEachQueue()
    {
        // No AddHangfire: it points Hangfire's static log provider at this provider, which the test disposes.
        var services = new ServiceCollection().AddLogging().AddSingleton(TestHost.InMemory());
        services.AddSingleton<Recorder>().AddSingleton(new TestItems()).AddSingleton<CompletionRecorder>();
        services.AddFanOut(o => o.CompletionQueue = "reports")
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event, o => o.Queue = "dispatch")
            .AddHandler<RecordingHandler>("notify", on: Event, o => o.Queue = "slack")
            .AddHandler<RecordingHandler>("audit", on: Event, o => o.Queue = "slack")
            .AddCompletionHandler<CompletionRecorder>(of: "nightly");
        using var provider = services.BuildServiceProvider();

        var queues = provider.GetRequiredService<ServerCensus>().DeclaredQueues();

        queues.Keys.Should().BeEquivalentTo("dispatch", "slack", "reports");
        queues["slack"].Should().Equal("handler 'notify'", "handler 'audit'");
        queues["dispatch"].Should().ContainSingle().Which.Should().Contain("cron fan-out 'nightly'");
    }

    [Fact]
    public async Task FanOutPage_ShowsTheWarningsThatHold()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        server.Services.GetRequiredService<FanOutWarnings>().Raise("test", "Queue <b>'slack'</b> has no server.");

        var (status, html) = await client.GetAsync("/hangfire/fanout");

        status.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("id=\"fanout-warnings\"").And.Contain("Queue &lt;b&gt;&#39;slack&#39;&lt;/b&gt; has no server.", "a warning is shown, encoded");
    }

    // Hangfire.InMemory's default expiration cap is warned about at start-up (StorageGuarantees); these tests look at the
    // server warnings alone.
    private static global::Hangfire.InMemory.InMemoryStorage UncappedInMemory() =>
        new(new global::Hangfire.InMemory.InMemoryStorageOptions { MaxExpirationTime = null });

    /// <summary>Collects the library's warnings as logged.</summary>
    private sealed class WarningLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Entries { get; } = new();

        public IServiceCollection AddTo(IServiceCollection services) => services.AddLogging(logging => logging.AddProvider(this));

        public ILogger CreateLogger(string categoryName) =>
            categoryName == typeof(FanOutWarnings).FullName ? new Logger(Entries) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    entries.Enqueue(formatter(state, exception));
                }
            }
        }
    }
}
