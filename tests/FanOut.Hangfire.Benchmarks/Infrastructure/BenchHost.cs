using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>
/// An application as a user would write it: Hangfire on a storage, FanOut with one no-op handler, and a Hangfire server
/// when jobs should run. The plain-Hangfire baselines run in the same kind of host.
/// </summary>
internal static class BenchHost
{
    public const string EventName = "bench/item";

    public static JobStorage Postgres(string connectionString)
    {
        var options = new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }

    public static JobStorage InMemory() => new InMemoryStorage(new InMemoryStorageOptions());

    /// <summary>Starts a host; <paramref name="workers"/> zero means no Hangfire server (nothing runs the jobs).</summary>
    public static async Task<IHost> StartAsync(JobStorage storage, bool postgreSqlDispatch, int workers = 0)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(storage);
        builder.Services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        builder.Services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(storage));
        if (workers > 0)
        {
            builder.Services.AddHangfireServer(o => o.WorkerCount = workers);
        }

        var fanOut = builder.Services.AddFanOut().AddHandler<NoopHandler>("noop", on: EventName);
        if (postgreSqlDispatch)
        {
            fanOut.UsePostgreSqlDispatch();
        }

        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static async Task StopAsync(IHost host, JobStorage storage)
    {
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
        (storage as IDisposable)?.Dispose();

        // AddHangfire points Hangfire's static log provider at this host's logger factory, now disposed.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
    }
}
