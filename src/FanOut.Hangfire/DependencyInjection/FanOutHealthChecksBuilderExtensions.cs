using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Registration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds FanOut.Hangfire's health check to the health checks of an ASP.NET Core app or a Worker Service.</summary>
public static class FanOutHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of this application's fan-outs, read from the Hangfire storage at every check. It reports
    /// <see cref="HealthStatus.Unhealthy"/> when the storage cannot be reached (a storage call throws), with the error's
    /// message; <paramref name="failureStatus"/> when a cron run is stuck dispatching (its dispatch lease ran out: the
    /// process dispatching it died or lost the storage), when a queue a cron fan-out, handler or completion handler uses
    /// has no live Hangfire server listening to it, or when no live server is seen at all; and
    /// <see cref="HealthStatus.Healthy"/> otherwise. Its description names the run, fan-out, handler or queue; its data
    /// holds the open runs, the live servers and the declared queues. Needs <c>services.AddFanOut()</c>.
    /// </summary>
    /// <param name="builder">The <see cref="IHealthChecksBuilder"/>, from <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The name of the health check. The default value is <c>"fanout"</c>.</param>
    /// <param name="failureStatus">
    /// The <see cref="HealthStatus"/> reported when the check finds a stuck run or a queue without a server, and when it
    /// runs out of <paramref name="timeout"/>. The default value, <see langword="null"/>, reports
    /// <see cref="HealthStatus.Degraded"/>: the jobs wait, but the application still works and no job is lost. A storage
    /// that cannot be reached is always <see cref="HealthStatus.Unhealthy"/>.
    /// </param>
    /// <param name="tags">Tags that can be used to filter health checks, for example to map a readiness endpoint. The default value is none.</param>
    /// <param name="timeout">How long the check may take. The default value, <see langword="null"/>, sets no limit.</param>
    /// <returns>The builder, to chain further health checks.</returns>
    public static IHealthChecksBuilder AddFanOut(
        this IHealthChecksBuilder builder,
        string name = "fanout",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (timeout is { } limit && limit <= TimeSpan.Zero && limit != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), limit, "The timeout must be positive, or Timeout.InfiniteTimeSpan.");
        }

        builder.Services.TryAddSingleton<FanOutHealthCheck>();
        return builder.Add(new HealthCheckRegistration(name, CheckOf, failureStatus ?? HealthStatus.Degraded, tags, timeout));
    }

    private static FanOutHealthCheck CheckOf(IServiceProvider services) =>
        services.GetService<FanOutDeclarations>() is null
            ? throw new InvalidOperationException("The FanOut.Hangfire health check needs the fan-out services: call services.AddFanOut() too.")
            : services.GetRequiredService<FanOutHealthCheck>();
}
