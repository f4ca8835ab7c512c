using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>A real generic host with Hangfire (a real BackgroundJobServer) and FanOut, on a storage a test chooses.</summary>
public sealed class TestHost : IAsyncDisposable
{
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
        bool server = true)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        AddHangfire(builder.Services, storage, workers, server);
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
            host.Dispose();
            ((IDisposable)storage).Dispose();

            // AddHangfire points Hangfire's static log provider at this host's logger factory, now disposed.
            global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        }
    }

    /// <summary>Adds Hangfire on <paramref name="storage"/>, with a fast-polling server unless <paramref name="server"/> is false.</summary>
    public static void AddHangfire(IServiceCollection services, JobStorage storage, int workers = 4, bool server = true)
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
        if (server)
        {
            services.AddHangfireServer(o =>
            {
                o.WorkerCount = workers;
                o.SchedulePollingInterval = TimeSpan.FromMilliseconds(500);
                o.ServerCheckInterval = TimeSpan.FromSeconds(5);
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
                o.Queues = ["default", "critical", "slow", "fanout"];
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(10));
        _host.Dispose();
        (Storage as IDisposable)?.Dispose();

        // AddHangfire points Hangfire's static log provider at this host's logger factory, now disposed.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
    }
}
