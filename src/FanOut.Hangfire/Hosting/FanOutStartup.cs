using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// Start-up work, before any Hangfire server starts: check every declaration (options, item types, classes DI must
/// build, Hangfire itself), say which guarantees the storage changes, then make the recurring jobs the library owns
/// match the enabled cron fan-outs.
/// </summary>
internal sealed partial class FanOutStartup(IServiceProvider services, ILogger<FanOutStartup> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var hangfire = services.GetRequiredService<HangfireServices>();
        var storage = hangfire.Storage;
        var registry = services.GetRequiredService<FanOutRegistry>();
        EnsureClassesCanBeBuilt(registry);
        StorageRegistrations.Attach(storage, registry);
        StorageGuarantees.Check(storage, registry.Options, services.GetRequiredService<FanOutWarnings>());
        SyncRecurringJobs(registry, hangfire);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void EnsureClassesCanBeBuilt(FanOutRegistry registry)
    {
        var problems = new List<string>();
        using var scope = services.CreateScope();
        foreach (var cron in registry.Crons)
        {
            TryBuild(scope.ServiceProvider, cron.SourceType, $"Cron fan-out '{cron.Id}': its source", problems);
        }

        foreach (var handler in registry.Handlers)
        {
            TryBuild(scope.ServiceProvider, handler.HandlerType, $"Handler '{handler.Id}': its class", problems);
        }

        foreach (var (of, type) in registry.CompletionHandlers)
        {
            TryBuild(scope.ServiceProvider, type, $"Completion handler of '{of}': its class", problems);
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                "FanOut.Hangfire configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => " - " + p)));
        }
    }

    private static void TryBuild(IServiceProvider provider, Type type, string what, List<string> problems)
    {
        try
        {
            provider.GetRequiredService(type);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            problems.Add($"{what} {type.FullName} cannot be built from DI: {ex.Message}");
        }
    }

    private void SyncRecurringJobs(FanOutRegistry registry, HangfireServices hangfire)
    {
        var manager = hangfire.RecurringJobs;
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cron in registry.Crons.Where(c => c.Options.Enabled))
        {
            var job = DispatchJobCodec.Instance.Create(hangfire, new DispatchJobArgs(cron.Id, RunId: null), cron.Options.Queue);
            manager.AddOrUpdate(cron.RecurringJobId, job, cron.Options.Cron, new RecurringJobOptions
            {
                TimeZone = cron.TimeZone,
                MisfireHandling = MisfireOf(cron.Options.MisfireHandling),
            });
            wanted.Add(cron.RecurringJobId);
            LogScheduled(cron.Id, cron.Options.Cron, cron.TimeZone.Id, cron.Options.Queue);
        }

        using var connection = hangfire.Storage.GetConnection();
        foreach (var existing in connection.GetRecurringJobs())
        {
            if (StorageKeys.IsOwnedRecurringJob(existing.Id) && !wanted.Contains(existing.Id))
            {
                manager.RemoveIfExists(existing.Id);
                LogRemoved(existing.Id);
            }
        }
    }

    private static MisfireHandlingMode MisfireOf(FanOutMisfireHandling handling) => handling switch
    {
        FanOutMisfireHandling.Strict => MisfireHandlingMode.Strict,
        FanOutMisfireHandling.Ignorable => MisfireHandlingMode.Ignorable,
        _ => MisfireHandlingMode.Relaxed,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Cron fan-out {FanOutId} scheduled: '{Cron}' in {TimeZone} on queue {Queue}")]
    private partial void LogScheduled(string fanOutId, string cron, string timeZone, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed recurring job {RecurringJobId}: its cron fan-out is no longer declared or is disabled")]
    private partial void LogRemoved(string recurringJobId);
}
