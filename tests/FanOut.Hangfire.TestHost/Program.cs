using System.Globalization;
using FanOut.Hangfire;
using FanOut.Hangfire.TestHost;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// A Hangfire server with the library on PostgreSQL, as a real application runs it. Tests start several of these,
// kill them with SIGKILL, stop the database under them, and read what happened from the database and from the lines
// this process writes to standard output (see Lines).
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddProvider(new LineLoggerProvider());

var settings = new HostSettings();
builder.Configuration.GetSection(HostSettings.SectionName).Bind(settings);
var connectionString = builder.Configuration.GetConnectionString("Hangfire")
    ?? throw new InvalidOperationException("Pass the PostgreSQL connection string as --ConnectionStrings:Hangfire=...");

var database = NpgsqlDataSource.Create(connectionString);
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(database);
builder.Services.AddSingleton<Journal>();
builder.Services.AddSingleton<CallFile>();
builder.Services.AddHostedService<ParentWatch>();

builder.Services.AddHangfire(c => c
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings()
    .UseFilter(new JobLinesFilter())
    .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), StorageOptions(settings)));
builder.Services.AddHangfireServer(o =>
{
    o.WorkerCount = settings.Workers;
    o.Queues = [.. settings.QueueList];
    // Retries are scheduled jobs and the tests' crons fire every few seconds: look for both twice a second.
    o.SchedulePollingInterval = TimeSpan.FromMilliseconds(500);
    o.HeartbeatInterval = TimeSpan.FromSeconds(5);
    o.ServerTimeout = TimeSpan.FromSeconds(30);
    o.ServerCheckInterval = TimeSpan.FromSeconds(10);
    o.ShutdownTimeout = TimeSpan.FromSeconds(2);
});

var fanOut = builder.Services.AddFanOut(builder.Configuration.GetSection("FanOut"));
builder.Services.Configure<FanOutOptions>(o => o.DispatchRetryDelays.Add(TimeSpan.FromSeconds(1)));
HostFanOuts.Declare(fanOut, settings);

using var host = builder.Build();
await host.Services.GetRequiredService<Journal>().EnsureCreatedAsync(CancellationToken.None);
await host.StartAsync();
Lines.Write("ready", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

if (settings.Trigger is { Length: > 0 } fanOutId)
{
    // Through the recurring job, exactly as a cron firing: the run id is assigned when the dispatch job first runs.
    var jobId = ((IRecurringJobManagerV2)host.Services.GetRequiredService<IRecurringJobManager>()).TriggerJob("fanout:" + fanOutId);
    Lines.Write("triggered", fanOutId, jobId ?? string.Empty);
}

await host.WaitForShutdownAsync();
await database.DisposeAsync();

static PostgreSqlStorageOptions StorageOptions(HostSettings settings) => settings.Storage switch
{
    HostSettings.TunedStorage => new PostgreSqlStorageOptions
    {
        PrepareSchemaIfNecessary = true,
        QueuePollInterval = settings.QueuePollInterval,
        // A job fetched by a process that died comes back after this; a live worker's fetch is kept alive below.
        InvisibilityTimeout = settings.InvisibilityTimeout,
        UseSlidingInvisibilityTimeout = settings.SlidingInvisibilityTimeout,
        // Locks are rows; one left by a killed process (say, mid state change) blocks its job until it expires.
        DistributedLockTimeout = settings.DistributedLockTimeout,
        CountersAggregateInterval = settings.CountersAggregateInterval,
    },

    // As the README's "On PostgreSQL" section sets them.
    HostSettings.RecommendedStorage => new PostgreSqlStorageOptions
    {
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromMinutes(5),
    },
    HostSettings.DefaultStorage => new PostgreSqlStorageOptions(),
    _ => throw new InvalidOperationException(
        $"Host:Storage is '{settings.Storage}'; use '{HostSettings.TunedStorage}', '{HostSettings.RecommendedStorage}' or '{HostSettings.DefaultStorage}'."),
};
