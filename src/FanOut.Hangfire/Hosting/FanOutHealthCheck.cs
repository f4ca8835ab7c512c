using System.Globalization;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// The health of this application's fan-outs as the Hangfire storage shows it: unhealthy when the storage cannot be
/// reached; the registration's failure status when a cron run's dispatch stopped without finishing, or when jobs wait
/// on a queue no live server listens to (or no server is seen at all); healthy otherwise. Stateless: every check reads
/// the storage afresh, so it says what holds now.
/// </summary>
internal sealed class FanOutHealthCheck(ServerCensus census, HangfireServices hangfire, InterruptedRuns interrupted) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        Findings findings;
        try
        {
            // Hangfire's storage API is synchronous: run it off the caller's thread so that the registration's timeout
            // answers the probe even when a storage call hangs (a database behind a dropped network).
            findings = await Task.Run(() => Look(cancellationToken), cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(HealthStatus.Unhealthy, $"The Hangfire storage cannot be reached: {ex.Message}", ex);
        }

        return findings.ToResult(context.Registration?.FailureStatus ?? HealthStatus.Degraded);
    }

    private Findings Look(CancellationToken cancellationToken)
    {
        var servers = census.Take();
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        var open = connection.GetAllItemsFromSet(StorageKeys.OpenRuns)?.Count ?? 0;
        cancellationToken.ThrowIfCancellationRequested();
        return new Findings(servers, open, interrupted.Find(connection));
    }

    private sealed record Findings(ServersSeen Servers, int OpenRuns, IReadOnlyList<InterruptedRun> Stuck)
    {
        public HealthCheckResult ToResult(HealthStatus failureStatus)
        {
            var problems = new List<string>();
            foreach (var run in Stuck)
            {
                problems.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Run {run.Record.RunId} of cron fan-out '{run.Record.Name}' has been stuck dispatching since {run.LeaseExpiredAt:u}, when its dispatch lease ran out: the process dispatching it died or lost the storage. A process declaring the fan-out asks for its resume from the checkpoint within about 15 s; a run stuck longer has no live process declaring it."));
            }

            if (Servers.Live.Count == 0)
            {
                problems.Add("No live Hangfire server is seen in storage: no job of any fan-out runs until one starts. " + ServerCensus.NoServerAdvice);
            }

            problems.AddRange(Servers.Unheard.Select(q => q.Message));

            var data = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["openRuns"] = OpenRuns,
                ["liveServers"] = Servers.Live.Count,
                ["declaredQueues"] = Servers.Declared.ToArray(),
                ["listenedQueues"] = Servers.Listened.Order(StringComparer.Ordinal).ToArray(),
            };
            if (Stuck.Count > 0)
            {
                data["stuckRuns"] = Stuck.Select(r => r.Record.RunId).ToArray();
            }

            if (Servers.Unheard.Count > 0)
            {
                data["queuesWithoutServer"] = Servers.Unheard.Select(q => q.Queue).ToArray();
            }

            if (problems.Count > 0)
            {
                return new HealthCheckResult(failureStatus, string.Join(" ", problems), data: data);
            }

            return HealthCheckResult.Healthy(
                string.Create(CultureInfo.InvariantCulture, $"{Servers.Live.Count} live Hangfire server(s) listen to every queue of this application's fan-outs; {OpenRuns} open run(s)."),
                data);
        }
    }
}
