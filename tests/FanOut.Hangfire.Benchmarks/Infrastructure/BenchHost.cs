using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.PostgreSql;
using FanOut.Hangfire.Testing;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>
/// An application as a user would write it: Hangfire on a storage, FanOut with one no-op handler, and a Hangfire server
/// when jobs should run. The plain-Hangfire baselines run in the same kind of host. It is the tests' host
/// (<see cref="TestHost"/>) with an application's settings: Hangfire's defaults for the storage and the server.
/// </summary>
internal static class BenchHost
{
    public const string EventName = "bench/item";

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    public static JobStorage Postgres(string connectionString) => Postgres(connectionString, new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true });

    public static JobStorage Postgres(string connectionString, PostgreSqlStorageOptions options) =>
        new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);

    public static JobStorage InMemory() => TestHost.InMemory();

    /// <summary>Starts a host; <paramref name="workers"/> zero means no Hangfire server (nothing runs the jobs).</summary>
    public static Task<IHost> StartAsync(JobStorage storage, bool postgreSqlDispatch, int workers = 0) =>
        StartAsync(storage, postgreSqlDispatch, workers, fanOut => fanOut.AddHandler<NoopHandler>("noop", on: EventName), services: null);

    /// <summary>Starts a host whose handlers <paramref name="handlers"/> declares, with <paramref name="services"/> of its own.</summary>
    public static async Task<IHost> StartAsync(
        JobStorage storage,
        bool postgreSqlDispatch,
        int workers,
        Action<IFanOutBuilder> handlers,
        Action<IServiceCollection>? services)
    {
        var host = TestHost.Build(
            storage,
            fanOut =>
            {
                handlers(fanOut);
                if (postgreSqlDispatch)
                {
                    fanOut.UsePostgreSqlDispatch();
                }
            },
            services,
            hangfireServer: workers > 0 ? o => o.WorkerCount = workers : null);
        await host.StartAsync();
        return host;
    }

    public static Task StopAsync(IHost host, JobStorage storage) => TestHost.StopAsync(host, storage, StopTimeout);

    /// <summary>Throws when a host with <c>UsePostgreSqlDispatch</c> dispatched through the generic path: the fast path was not measured.</summary>
    public static void ThrowIfFastPathNotTaken(IHost host)
    {
        if (host.Services.GetRequiredService<IFanOutChunkWriter>() is PostgreSqlChunkWriter { Decision: { Target: null } decision })
        {
            throw new InvalidOperationException($"The fast path was not taken: the dispatch used {decision.Description}.");
        }
    }
}
