using FanOut.Hangfire;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Execution;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FanOutLimitOptions>, FanOutOptionsValidator>());

        services.TryAddSingleton<FanOutRegistry>();
        services.TryAddSingleton<FanOutWarnings>();
        services.TryAddSingleton<IFanOutCatalog, FanOutCatalog>();
        services.TryAddSingleton<HangfireServices>();
        services.TryAddSingleton<IFanOutChunkWriter, HangfireChunkWriter>();
        services.TryAddSingleton<RunStore>();
        services.TryAddSingleton<IdempotencyKeys>();
        services.TryAddSingleton<DispatchLease>();
        services.TryAddSingleton<InterruptedRuns>();
        services.TryAddSingleton<RunDispatcher>();
        services.TryAddSingleton<DispatchHooks>();
        services.TryAddSingleton<CronDispatcher>();
        services.TryAddSingleton<IFanOutClient, FanOutClient>();
        services.TryAddSingleton<RunningCalls>();
        services.TryAddSingleton<CancelledRuns>();
        services.TryAddSingleton<IJobCancellation>(sp => sp.GetRequiredService<CancelledRuns>());
        services.TryAddSingleton<RunCancellation>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CancellationWatch>());
        services.TryAddSingleton<FanOutRuns>();
        services.TryAddSingleton<IFanOutRuns>(sp => sp.GetRequiredService<FanOutRuns>());
#pragma warning disable FANOUT0001 // The default of the library's own experimental seam.
        services.TryAddSingleton<IFanOutLimitLock, StorageLimitLock>();
        services.TryAddSingleton<IFanOutStateChangeWriter, HangfireStateChangeWriter>();
#pragma warning restore FANOUT0001
        services.TryAddSingleton<FlowLocks>();
        services.TryAddSingleton<ThrottledStarts>();
        services.TryAddSingleton<CallRegistry>();
        services.TryAddSingleton<PauseStore>();
        services.TryAddSingleton<Pauses>();
        services.TryAddSingleton<PausedJobs>();
        services.TryAddSingleton<FanOutControl>();
        services.TryAddSingleton<IFanOutControl>(sp => sp.GetRequiredService<FanOutControl>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PauseMaintenance>());
        services.TryAddSingleton<FlowControl>();
        services.TryAddSingleton<LimitStatusReader>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FlowMaintenance>());
        AddFlowStateChanger(services);
        services.TryAddSingleton<HandlerCalls>();
        services.TryAddSingleton<ItemExecutor>();
        services.TryAddSingleton<BatchExecutor>();

        // Each job's own logs: the provider keeps what a handler logs during its call (Execution/JobLogCapture).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, JobLogProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<LoggerFilterOptions>, JobLogFilter>());
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
        services.TryAddTransient(sp => new FanOutBatchJob(sp.GetRequiredService<BatchExecutor>(), sp));
        services.TryAddTransient(sp => new FanOutCompletionJob(sp.GetRequiredService<CompletionExecutor>(), sp));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FanOutStartup>());

        return new FanOutBuilder(services, declarations);
    }

    // Hangfire's servers and DI-made clients use a state changer from DI only when the job factory and performer are there
    // too; these are the ones Hangfire would make, and the state changer (the application's own, if it registered one)
    // runs each change inside a flow scope, so limits stay locked until the change has committed.
    private static void AddFlowStateChanger(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(FlowStateChangerAdded)))
        {
            return;
        }

        services.AddSingleton(new FlowStateChangerAdded());
        services.TryAddSingleton<global::Hangfire.Client.IBackgroundJobFactory>(sp =>
            new global::Hangfire.Client.BackgroundJobFactory(sp.GetRequiredService<global::Hangfire.Common.IJobFilterProvider>()));
        services.TryAddSingleton<global::Hangfire.Server.IBackgroundJobPerformer>(sp =>
            new global::Hangfire.Server.BackgroundJobPerformer(sp.GetRequiredService<global::Hangfire.Common.IJobFilterProvider>(), sp.GetRequiredService<global::Hangfire.JobActivator>()));

        var existing = services.LastOrDefault(d => d.ServiceType == typeof(global::Hangfire.States.IBackgroundJobStateChanger));
        Func<IServiceProvider, global::Hangfire.States.IBackgroundJobStateChanger> inner = existing switch
        {
            null => sp => new global::Hangfire.States.BackgroundJobStateChanger(sp.GetRequiredService<global::Hangfire.Common.IJobFilterProvider>()),
            { ImplementationInstance: global::Hangfire.States.IBackgroundJobStateChanger instance } => _ => instance,
            { ImplementationFactory: { } factory } => sp => (global::Hangfire.States.IBackgroundJobStateChanger)factory(sp),
            { ImplementationType: { } type } => sp => (global::Hangfire.States.IBackgroundJobStateChanger)ActivatorUtilities.CreateInstance(sp, type),
            _ => sp => new global::Hangfire.States.BackgroundJobStateChanger(sp.GetRequiredService<global::Hangfire.Common.IJobFilterProvider>()),
        };
        if (existing is not null)
        {
            services.Remove(existing);
        }

        services.AddSingleton<global::Hangfire.States.IBackgroundJobStateChanger>(sp => new FlowStateChanger(inner(sp), sp.GetRequiredService<FlowLocks>()));
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
    /// each cron fan-out from <c>CronFanOuts:{id}</c> and each handler from <c>Handlers:{id}</c> and each shared limit from <c>Limits:{name}</c>. Configuration
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
        services.AddSingleton<IPostConfigureOptions<FanOutLimitOptions>>(new ConfigurationOverrides(configuration));
        return builder;
    }

    /// <summary>Marks a service collection whose state changer was wrapped already.</summary>
    private sealed class FlowStateChangerAdded;
}
