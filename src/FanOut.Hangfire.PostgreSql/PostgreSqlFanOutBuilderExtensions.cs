using FanOut.Hangfire;
using FanOut.Hangfire.PostgreSql;

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
    /// storage it cannot support is logged as a warning and shown on the dashboard's Fan-out page.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFanOut</c>.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder UsePostgreSqlDispatch(this IFanOutBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseChunkWriter<PostgreSqlChunkWriter>();
    }
}
