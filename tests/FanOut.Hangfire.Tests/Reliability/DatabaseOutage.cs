using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// PostgreSQL stopped under running hosts, for as long as it takes them to notice: until <c>noticed</c> holds (a job
/// or a call cut off by it) and every host's Hangfire server failed to send a heartbeat; then started again, whatever
/// happens. Only the cluster the tests start themselves can be stopped.
/// </summary>
internal static class DatabaseOutage
{
    private static readonly TimeSpan Noticed = TimeSpan.FromSeconds(60);

    public static void RequireOwnCluster(PostgresServer postgres)
    {
        if (!postgres.IsSelfStarted)
        {
            throw new InvalidOperationException(
                "This test stops and starts PostgreSQL, which it can only do to the cluster the tests start themselves, " +
                $"not to the server named by {PostgresServer.ConnectionStringVariable}. Unset it to run this test.");
        }
    }

    public static async Task RunAsync(
        PostgresServer postgres,
        IReadOnlyList<HostProcess> hosts,
        Func<IReadOnlyList<int>, bool> noticed,
        string what,
        ITestOutputHelper output)
    {
        RequireOwnCluster(postgres);
        var seen = hosts.Select(h => h.Lines.Count).ToList();
        output.WriteLine($"Stopping PostgreSQL at {DateTime.UtcNow:HH:mm:ss.fff}.");
        await postgres.StopAsync();
        try
        {
            await Wait.UntilAsync(() => noticed(seen), Noticed, () => what + string.Concat(hosts.Select(h => h.Tail())));
            for (var i = 0; i < hosts.Count; i++)
            {
                await hosts[i].WaitForLineAsync(
                    l => l.StartsWith("log|Warning|Hangfire.Server.ServerHeartbeatProcess|", StringComparison.Ordinal),
                    Noticed,
                    "its Hangfire server to fail a heartbeat on the lost database",
                    skip: seen[i]);
            }
        }
        finally
        {
            await postgres.StartAsync();
            output.WriteLine($"PostgreSQL is back at {DateTime.UtcNow:HH:mm:ss.fff}.");
        }
    }
}
