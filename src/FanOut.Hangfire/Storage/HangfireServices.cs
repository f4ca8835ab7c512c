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

    private HangfireServices(HangfireServices parent, IJobFilterProvider filters)
    {
        _services = parent._services;
        _storage = parent._storage;
        _filters = new Lazy<IJobFilterProvider>(() => filters);
        _factory = new Lazy<BackgroundJobFactory>(() => new BackgroundJobFactory(filters));
        _stateMachine = new Lazy<StateMachine>(() => new StateMachine(filters));
    }

    public JobStorage Storage => _storage.Value;

    public IJobFilterProvider Filters => _filters.Value;

    public IBackgroundJobFactory Factory => _factory.Value;

    public IStateMachine StateMachine => _stateMachine.Value;

    /// <summary>
    /// The same parts for writing one dispatch chunk on one thread: each job type's filters are looked up once for the
    /// chunk (<see cref="ChunkFilterCache"/>), so the chunk's jobs go through the same filters with less work per job.
    /// </summary>
    public HangfireServices ForChunk() => ChunkFilterCache.For(Filters) is var filters && ReferenceEquals(filters, Filters) ? this : new HangfireServices(this, filters);

    public bool SupportsJobQueue => Storage.HasFeature(JobStorageFeatures.JobQueueProperty);

    /// <summary>
    /// Changes a job's state through the application's state changer, if it is in <paramref name="from"/>: the state the
    /// change ended in (which a filter may have made another than <paramref name="state"/>), or null when it was not.
    /// </summary>
    public IState? ChangeState(string jobId, IState state, string from)
    {
        var changer = _services.GetService<IBackgroundJobStateChanger>() ?? new BackgroundJobStateChanger(Filters);
        using var connection = Storage.GetConnection();
        return changer.ChangeState(new StateChangeContext(Storage, connection, jobId, state, from));
    }

    public IRecurringJobManager RecurringJobs => _services.GetRequiredService<IRecurringJobManager>();

    /// <summary>The queue goes on the job itself where the storage supports it, so retries and requeues keep it.</summary>
    public Job CreateJob(Type type, System.Reflection.MethodInfo method, object?[] args, string queue) =>
        SupportsJobQueue
            ? new Job(type, method, args, queue)
            : new Job(type, method, args);

    /// <summary>
    /// Creates a job the way Hangfire's client does (client filters, then a job with no state that expires unless
    /// initialized), so that a later transaction can enqueue it together with other writes.
    /// </summary>
    public BackgroundJob CreateUninitialized(IStorageConnection connection, Job job, IDictionary<string, object?> parameters) =>
        Factory.Create(new CreateContext(Storage, connection, job, initialState: null, parameters))
        ?? throw new InvalidOperationException($"A Hangfire client filter cancelled the creation of a {job.Type.Name} job.");

    /// <summary>Moves a job created by <see cref="CreateUninitialized"/> to Enqueued inside the given transaction.</summary>
    public void Enqueue(IStorageConnection connection, IWriteOnlyTransaction transaction, BackgroundJob job, string queue, string reason) =>
        Apply(connection, transaction, job, new EnqueuedState(queue) { Reason = reason });

    /// <summary>Moves a job created by <see cref="CreateUninitialized"/> to its first state inside the given transaction.</summary>
    public void Apply(IStorageConnection connection, IWriteOnlyTransaction transaction, BackgroundJob job, IState state) =>
        StateMachine.ApplyState(new ApplyStateContext(Storage, connection, transaction, job, state, oldStateName: null));

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
