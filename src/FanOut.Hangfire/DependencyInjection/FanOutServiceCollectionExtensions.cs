using FanOut.Hangfire;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Execution;
using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds FanOut.Hangfire to a service collection, next to <c>AddHangfire</c>.</summary>
public static class FanOutServiceCollectionExtensions
{
    /// <summary>Adds the fan-out services. Calling it more than once is safe and returns a builder over the same declarations.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to declare cron fan-outs and handlers on.</returns>
    public static IFanOutBuilder AddFanOut(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        var declarations = services
            .Where(d => d.ServiceType == typeof(FanOutDeclarations) && d.ImplementationInstance is not null)
            .Select(d => (FanOutDeclarations)d.ImplementationInstance!)
            .FirstOrDefault();
        if (declarations is null)
        {
            declarations = new FanOutDeclarations();
            services.AddSingleton(declarations);
        }

        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FanOutOptions>, FanOutOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CronFanOutOptions>, FanOutOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FanOutHandlerOptions>, FanOutOptionsValidator>());

        services.TryAddSingleton<FanOutRegistry>();
        services.TryAddSingleton<FanOutWarnings>();
        services.TryAddSingleton<IFanOutCatalog, FanOutCatalog>();
        services.TryAddSingleton<HangfireServices>();
        services.TryAddSingleton<IFanOutChunkWriter, HangfireChunkWriter>();
        services.TryAddSingleton<RunStore>();
        services.TryAddSingleton<DispatchLease>();
        services.TryAddSingleton<InterruptedRuns>();
        services.TryAddSingleton<RunDispatcher>();
        services.TryAddSingleton<DispatchHooks>();
        services.TryAddSingleton<CronDispatcher>();
        services.TryAddSingleton<IFanOutClient, FanOutClient>();
        services.TryAddSingleton<FanOutRuns>();
        services.TryAddSingleton<IFanOutRuns>(sp => sp.GetRequiredService<FanOutRuns>());
        services.TryAddSingleton<ItemExecutor>();
        services.TryAddSingleton<CompletionExecutor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RunCompletionMonitor>());
        services.TryAddSingleton<ServerWatchSettings>();
        services.TryAddSingleton<ServerCensus>();
        services.TryAddSingleton<ServerWatch>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServerWatch>(sp => sp.GetRequiredService<ServerWatch>()));
        services.TryAddSingleton<DispatchRecoverySettings>();
        services.TryAddSingleton<DispatchRecovery>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DispatchRecovery>(sp => sp.GetRequiredService<DispatchRecovery>()));

        // The stored jobs, activated by Hangfire in a DI scope per job: the scope is where handlers are resolved from.
        services.TryAddTransient(sp => new FanOutDispatchJob(sp.GetRequiredService<CronDispatcher>()));
        services.TryAddTransient(sp => new FanOutItemJob(sp.GetRequiredService<ItemExecutor>(), sp));
        services.TryAddTransient(sp => new FanOutCompletionJob(sp.GetRequiredService<CompletionExecutor>(), sp));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FanOutStartup>());

        return new FanOutBuilder(services, declarations);
    }

    /// <summary>Adds the fan-out services and configures the options shared by every fan-out.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures <see cref="FanOutOptions"/>.</param>
    /// <returns>A builder to declare cron fan-outs and handlers on.</returns>
    public static IFanOutBuilder AddFanOut(this IServiceCollection services, Action<FanOutOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);

        var builder = services.AddFanOut();
        services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Adds the fan-out services and binds options from configuration: the shared options from the section itself,
    /// each cron fan-out from <c>CronFanOuts:{id}</c> and each handler from <c>Handlers:{id}</c>. Configuration
    /// overrides what code sets, so appsettings.json can change a schedule or disable a fan-out.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section, usually <c>builder.Configuration.GetSection("FanOut")</c>.</param>
    /// <returns>A builder to declare cron fan-outs and handlers on.</returns>
    public static IFanOutBuilder AddFanOut(this IServiceCollection services, IConfigurationSection configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var builder = services.AddFanOut();
        services.AddSingleton<IPostConfigureOptions<FanOutOptions>>(new ConfigurationOverrides(configuration));
        services.AddSingleton<IPostConfigureOptions<CronFanOutOptions>>(new ConfigurationOverrides(configuration));
        services.AddSingleton<IPostConfigureOptions<FanOutHandlerOptions>>(new ConfigurationOverrides(configuration));
        return builder;
    }
}
