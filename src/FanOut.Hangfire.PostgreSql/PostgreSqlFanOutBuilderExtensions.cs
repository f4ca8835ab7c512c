using FanOut.Hangfire;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.PostgreSql;
using Hangfire;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Switches FanOut.Hangfire's dispatch to the PostgreSQL fast path, where the storage allows it.</summary>
public static class PostgreSqlFanOutBuilderExtensions
{
    /// <summary>
    /// Dispatches child jobs into Hangfire.PostgreSql with a few set-based statements per chunk instead of several
    /// statements per job, in one database transaction with the run's checkpoint. The jobs are the rows Hangfire writes
    /// itself, through the same client filters and state machine, processed by unmodified Hangfire workers. Used when the
    /// Hangfire storage is Hangfire.PostgreSql 1.21 with its default queue provider on a schema at version 23; with any
    /// other storage the generic path is used. The choice is logged once, at the first dispatch; a Hangfire.PostgreSql
    /// storage it cannot support is logged as a warning and shown on the dashboard's Fan-out page. On such a storage the
    /// locks of concurrency limits and throttles are PostgreSQL advisory locks, which hand over at once, instead of
    /// Hangfire.PostgreSql's polled lock; on any other storage the lock installed before this call is kept. The waiting
    /// jobs of a cancelled run are deleted the same way, many jobs to a few statements: read in one query, their state
    /// changes (through Hangfire's state machine and filters) written in one batch.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFanOut</c>.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder UsePostgreSqlDispatch(this IFanOutBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ProbedStorage>();
        UseAdvisoryLimitLock(builder.Services);
        builder.Services.Replace(ServiceDescriptor.Singleton<IFanOutStateChangeWriter, PostgreSqlStateChangeWriter>());
        return builder.UseChunkWriter<PostgreSqlChunkWriter>();
    }

    // Replaces the limit lock installed so far, keeping it for storages the advisory lock does not serve. Called twice,
    // it keeps its first installation.
    private static void UseAdvisoryLimitLock(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(PostgreSqlLimitLock)))
        {
            return;
        }

        var previous = services.LastOrDefault(d => d.ServiceType == typeof(IFanOutLimitLock) && !d.IsKeyedService)
            ?? throw new InvalidOperationException("UsePostgreSqlDispatch needs the builder returned by AddFanOut.");
        services.AddSingleton(sp => new PostgreSqlLimitLock(sp.GetRequiredService<ProbedStorage>(), () => Create(sp, previous)));
        services.Replace(ServiceDescriptor.Singleton<IFanOutLimitLock>(sp => sp.GetRequiredService<PostgreSqlLimitLock>()));
    }

    private static IFanOutLimitLock Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        (IFanOutLimitLock)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
