using Hangfire.PostgreSql;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// Hangfire.PostgreSql's long polling starts a <c>LISTEN</c> wait for every fetch and cancels it once a job is fetched.
/// Npgsql 10.0 can lose that cancellation, and the worker then holds the job it fetched, unprocessed, until the next
/// notification arrives. With a keepalive the wait wakes every few seconds and sees it was cancelled. This names the risk
/// when long polling is on without one; FanOut's jobs and Hangfire's own are exposed alike.
/// </summary>
internal static class LongPollingAdvice
{
    public static string? For(PostgreSqlStorageOptions options, string connectionString) =>
        options.EnableLongPolling && new NpgsqlConnectionStringBuilder(connectionString).KeepAlive <= 0
            ? "Hangfire.PostgreSql long polling is on and the connection string sets no Keepalive: Npgsql can lose the " +
              "cancellation of the wait Hangfire.PostgreSql starts for each fetch, and a worker then holds the job it fetched " +
              "until the next notification. Add Keepalive=1 to the connection string."
            : null;
}
