using Hangfire;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Storage;

/// <summary>
/// Hangfire's parts as the application configured them, reached through DI: the storage, the filter provider, and the
/// job factory and state machine built on it, so child jobs go through the same client and state filters as
/// <c>BackgroundJob.Enqueue</c>.
/// </summary>
internal sealed class HangfireServices
{
    private readonly IServiceProvider _services;
    private readonly Lazy<JobStorage> _storage;
    private readonly Lazy<IJobFilterProvider> _filters;
    private readonly Lazy<BackgroundJobFactory> _factory;
    private readonly Lazy<StateMachine> _stateMachine;

    public HangfireServices(IServiceProvider services)
    {
        _services = services;
        _storage = new Lazy<JobStorage>(ResolveStorage);
        _filters = new Lazy<IJobFilterProvider>(() => services.GetService<IJobFilterProvider>() ?? JobFilterProviders.Providers);
        _factory = new Lazy<BackgroundJobFactory>(() => new BackgroundJobFactory(Filters));
        _stateMachine = new Lazy<StateMachine>(() => new StateMachine(Filters));
    }

    public JobStorage Storage => _storage.Value;

    public IJobFilterProvider Filters => _filters.Value;

    public IBackgroundJobFactory Factory => _factory.Value;

    public IStateMachine StateMachine => _stateMachine.Value;

    public bool SupportsJobQueue => Storage.HasFeature(JobStorageFeatures.JobQueueProperty);

    public IBackgroundJobClient Client => _services.GetRequiredService<IBackgroundJobClient>();

    public IRecurringJobManager RecurringJobs => _services.GetRequiredService<IRecurringJobManager>();

    /// <summary>The queue goes on the job itself where the storage supports it, so retries and requeues keep it.</summary>
    public Job CreateJob(Type type, System.Reflection.MethodInfo method, object?[] args, string queue) =>
        SupportsJobQueue
            ? new Job(type, method, args, queue)
            : new Job(type, method, args);

    private JobStorage ResolveStorage()
    {
        JobStorage? storage;
        try
        {
            storage = _services.GetService<JobStorage>();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                "FanOut.Hangfire needs a Hangfire storage: configure one in services.AddHangfire(c => c.UseInMemoryStorage()) or UsePostgreSqlStorage(...).", ex);
        }

        return storage ?? throw new InvalidOperationException(
            "FanOut.Hangfire needs Hangfire: call services.AddHangfire(...) with a storage (and AddHangfireServer() where jobs should run) next to AddFanOut().");
    }
}
