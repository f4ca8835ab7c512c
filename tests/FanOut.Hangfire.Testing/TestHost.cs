using FluentAssertions;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Redis.StackExchange;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// A real generic host with Hangfire (a real BackgroundJobServer) and FanOut, on a storage a test chooses. The tests'
/// hosts have a fast-polling server; the overloads taking the server's options build the same host with a server set up
/// otherwise, or none (the benchmarks keep Hangfire's defaults).
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly IHost _host;

    private TestHost(IHost host, JobStorage storage)
    {
        _host = host;
        Storage = storage;
    }

    public IServiceProvider Services => _host.Services;

    public JobStorage Storage { get; }

    public IFanOutClient Client => Services.GetRequiredService<IFanOutClient>();

    public static JobStorage InMemory() => new InMemoryStorage(new InMemoryStorageOptions());

    public static JobStorage Postgres(string connectionString) =>
        new PostgreSqlStorage(
            new NpgsqlConnectionFactory(connectionString, new PostgreSqlStorageOptions()),
            new PostgreSqlStorageOptions
            {
                QueuePollInterval = TimeSpan.FromMilliseconds(200),
                PrepareSchemaIfNecessary = true,
            });

    /// <summary>
    /// Hangfire.Redis.StackExchange under a key prefix of its own. Its succeeded list keeps every job (499 by default),
    /// so the tests can count them.
    /// </summary>
    public static JobStorage Redis(IConnectionMultiplexer connection, string prefix) =>
        new RedisStorage(connection, new RedisStorageOptions
        {
            Prefix = prefix,
            SucceededListSize = 100_000,
            DeletedListSize = 100_000,
        });

    /// <summary>Hangfire.Storage.SQLite in the database file <paramref name="path"/>, polling its queues often.</summary>
    public static JobStorage Sqlite(string path) =>
        new SQLiteStorage(path, new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromMilliseconds(200) });

    /// <summary>Builds and starts a host; <paramref name="configure"/> declares fan-outs on the builder.</summary>
    public static async Task<TestHost> StartAsync(
        JobStorage storage,
        Action<IFanOutBuilder> configure,
        Action<IServiceCollection>? services = null,
        int workers = 4,
        bool server = true)
    {
        var host = Build(storage, configure, services, workers, server);
        await host.StartAsync();
        return new TestHost(host, storage);
    }

    /// <summary>Builds a host without starting it, for tests of start-up failures.</summary>
    public static IHost Build(
        JobStorage storage,
        Action<IFanOutBuilder> configure,
        Action<IServiceCollection>? services = null,
        int workers = 4,
        bool server = true) =>
        Build(storage, configure, services, server ? FastPollingServer(workers) : null);

    /// <summary>Builds a host whose Hangfire server <paramref name="hangfireServer"/> sets up; without it, the host has no server.</summary>
    public static IHost Build(
        JobStorage storage,
        Action<IFanOutBuilder> configure,
        Action<IServiceCollection>? services,
        Action<BackgroundJobServerOptions>? hangfireServer)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        AddHangfire(builder.Services, storage, hangfireServer);
        services?.Invoke(builder.Services);
        configure(builder.Services.AddFanOut());
        return builder.Build();
    }

    /// <summary>Starts a host on a storage of its own that must fail to start; returns the failure's message.</summary>
    public static async Task<string> StartupFailureAsync(Action<IFanOutBuilder> configure, Action<IServiceCollection>? services = null)
    {
        var storage = InMemory();
        var host = Build(storage, configure, services);
        try
        {
            var thrown = await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<InvalidOperationException>();
            return thrown.Which.Message;
        }
        finally
        {
            Release(host, storage);
        }
    }

    /// <summary>Adds Hangfire on <paramref name="storage"/>, with a fast-polling server unless <paramref name="server"/> is false.</summary>
    public static void AddHangfire(IServiceCollection services, JobStorage storage, int workers = 4, bool server = true) =>
        AddHangfire(services, storage, server ? FastPollingServer(workers) : null);

    /// <summary>Adds Hangfire on <paramref name="storage"/>, with a server <paramref name="hangfireServer"/> sets up, or none.</summary>
    public static void AddHangfire(IServiceCollection services, JobStorage storage, Action<BackgroundJobServerOptions>? hangfireServer)
    {
        // Hangfire's AddHangfire falls back to static JobStorage.Current and JobActivator.Current; registering both
        // first keeps every host on its own storage and container.
        services.AddSingleton(storage);
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(storage));
        if (hangfireServer is not null)
        {
            services.AddHangfireServer(hangfireServer);
        }
    }

    /// <summary>Stops a host built here, waiting up to <paramref name="timeout"/>, then disposes of it and its storage.</summary>
    public static async Task StopAsync(IHost host, JobStorage storage, TimeSpan timeout)
    {
        await host.StopAsync(timeout);
        Release(host, storage);
    }

    public ValueTask DisposeAsync() => new(StopAsync(_host, Storage, StopTimeout));

    private static Action<BackgroundJobServerOptions> FastPollingServer(int workers) => o =>
    {
        o.WorkerCount = workers;
        o.SchedulePollingInterval = TimeSpan.FromMilliseconds(500);
        o.ServerCheckInterval = TimeSpan.FromSeconds(5);
        o.ShutdownTimeout = TimeSpan.FromSeconds(5);
        o.Queues = ["default", "critical", "slow", "fanout"];
    };

    private static void Release(IHost host, JobStorage storage)
    {
        host.Dispose();
        (storage as IDisposable)?.Dispose();

        // Each test has a database of its own, and its pool would keep idle connections open for minutes: many tests in
        // a row would reach the server's max_connections. Idle ones are closed now; those in use close when returned.
        if (storage is PostgreSqlStorage)
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
        }

        // AddHangfire points Hangfire's static log provider at this host's logger factory, now disposed.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
    }
}
