using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace FanOut.Hangfire.Tests.Samples;

/// <summary>The sample on PostgreSQL, with the README's configuration, cancels a big run mid-execution (design.md invariant 15).</summary>
public sealed partial class SamplePostgreSqlTests
{
    private const int BigRunAccounts = 20_000;
    private static readonly TimeSpan CancelDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sample_OnPostgreSqlWith20000Accounts_CancelledMidExecution_HasNoJobEnqueuedScheduledOrProcessingWithin30Seconds_AndEndsCancelled()
    {
        await using var sample = await StartSampleAsync(new Dictionary<string, string> { ["Sample__Accounts"] = "20000" });
        using var trigger = await sample.Http.PostAsync(new Uri($"/fan-outs/{FanOutId}/trigger", UriKind.Relative), content: null);
        trigger.StatusCode.Should().Be(HttpStatusCode.OK, sample.Process.Tail());
        var runId = (await trigger.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
        await WaitForRunAsync(sample, runId, run => run.GetProperty("succeeded").GetInt64() >= 100, "to be executing", RunTimeout);

        var clock = Stopwatch.StartNew();
        using var cancel = await sample.Http.PostAsync(new Uri($"/runs/{runId}/cancel", UriKind.Relative), content: null);
        var answered = clock.Elapsed;
        cancel.StatusCode.Should().Be(HttpStatusCode.OK, "{0} after {1}; {2}", await cancel.Content.ReadAsStringAsync(), answered, sample.Process.Tail());
        var result = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        result.GetProperty("outcome").GetString().Should().Be("Cancelled");
        using var second = await sample.Http.PostAsync(new Uri($"/runs/{runId}/cancel", UriKind.Relative), content: null);
        (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString().Should().Be("AlreadyCancelled", "a second cancel changes nothing");

        var left = new Dictionary<string, long>();
        JsonElement seen = default;
        while (true)
        {
            left = await RunnableJobsAsync(sample.ConnectionString, runId);
            seen = await sample.GetJsonAsync($"/runs/{runId}");
            if (left.Count == 0 && seen.GetProperty("status").GetString() == "Cancelled")
            {
                break;
            }

            clock.Elapsed.Should().BeLessThan(CancelDeadline, "within 30 s of the cancel none of the run's jobs is enqueued, scheduled or processing; left: {0}; run: {1}", string.Join(", ", left), seen);
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        var runnableGone = clock.Elapsed;
        output.WriteLine($"The cancel answered in {answered.TotalSeconds:F1} s, having deleted {result.GetProperty("jobsDeleted").GetInt64()} jobs, "
            + $"{result.GetProperty("jobsWaiting").GetInt64()} waiting; nothing of the run runnable after {runnableGone.TotalSeconds:F1} s.");
        runnableGone.Should().BeLessThan(CancelDeadline, "within 30 s of the cancel none of the run's jobs is enqueued, scheduled or processing");
        var ended = await WaitForRunAsync(sample, runId, run => run.GetProperty("inFlight").GetInt64() == 0 && run.GetProperty("completions").GetInt32() == 1, "to complete", RunTimeout);
        output.WriteLine($"Every job of the run ended {clock.Elapsed.TotalSeconds:F1} s after the cancel: {ended}");
        var dispatched = ended.GetProperty("dispatchedItems").GetInt64();
        dispatched.Should().BeInRange(1, BigRunAccounts, "a dispatch still running when the cancel came stops at its next chunk");
        (ended.GetProperty("succeeded").GetInt64() + ended.GetProperty("failed").GetInt64() + ended.GetProperty("deleted").GetInt64())
            .Should().Be(dispatched, "every job of the run is counted once: {0}", ended);
        ended.GetProperty("deleted").GetInt64().Should().BeGreaterThan(dispatched / 2, "most jobs had not started: {0}", ended);
    }

    /// <summary>The run's jobs in Enqueued, Scheduled or Processing, by state, read from Hangfire.PostgreSql's own table.</summary>
    private static async Task<Dictionary<string, long>> RunnableJobsAsync(string connectionString, string runId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT statename, count(*) FROM hangfire.job WHERE statename IN ('Enqueued', 'Scheduled', 'Processing') AND arguments::text LIKE @run GROUP BY statename",
            connection);
        command.Parameters.AddWithValue("run", $"%{runId}%");
        var found = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            found[reader.GetString(0)] = reader.GetInt64(1);
        }

        return found;
    }

    private static async Task<JsonElement> WaitForRunAsync(RunningSample sample, string runId, Func<JsonElement, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var run = await sample.GetJsonAsync($"/runs/{runId}");
            if (condition(run))
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Run {runId} did not come {what} within {timeout.TotalSeconds:F0} s; last seen: {run}{sample.Process.Tail()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }
}
