using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Reliability;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Samples;

/// <summary>
/// On PostgreSQL the sample runs with the storage options the README recommends and the fast dispatch path, and the
/// README shows exactly those options.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class SamplePostgreSqlTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const string FanOutId = "slack-notification-cron";
    private const int Accounts = 1000;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public void Readme_OnPostgreSql_ShowsTheStorageOptionsTheSampleUses()
    {
        var readme = File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, "README.md"));
        var program = File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, SampleProcesses.WebSampleFolder, "Program.cs"));

        var shown = StorageCall().Matches(readme);
        var used = StorageCall().Match(program);

        shown.Should().ContainSingle("the README shows one PostgreSQL storage configuration");
        used.Success.Should().BeTrue("the sample configures Hangfire.PostgreSql");
        Normalized(shown[0].Value).Should().Be(Normalized(used.Value), "the README shows the options the sample runs with");
        readme.Should().Contain("using Hangfire.PostgreSql;").And.Contain(".UsePostgreSqlDispatch()");
        program.Should().Contain("UsePostgreSqlDispatch()");
    }

    [Fact]
    public async Task Sample_OnPostgreSqlWithItsDefaults_KeepsToTheFakeSlacksLimits_AndNotifiesEveryAccountOnce()
    {
        // Nothing but the storage set: the accounts, workspaces, channels and limits are the sample's defaults.
        await using var sample = await StartSampleAsync(new Dictionary<string, string>());

        var run = await TriggerAndWaitForCompletedRunAsync(sample);
        var stats = await sample.GetJsonAsync("/fake-slack/stats");
        output.WriteLine($"fake Slack: {stats}");

        run.GetProperty("dispatchedItems").GetInt64().Should().Be(Accounts, "the sample seeds 1,000 accounts by default");
        run.GetProperty("succeeded").GetInt64().Should().Be(Accounts, "every account's job succeeds, retries of the 503s included");
        run.GetProperty("failed").GetInt64().Should().Be(0);
        run.GetProperty("retrying").GetInt64().Should().Be(0, "a completed run has no job waiting for a retry");
        run.TryGetProperty("nextRetryAt", out var next).Should().BeTrue("the run's page in JSON says when the next retry is due");
        next.ValueKind.Should().Be(JsonValueKind.Null);
        sample.Process.Lines.Should().Contain(
            line => line.Contains("writes child jobs through the PostgreSQL fast path", StringComparison.Ordinal),
            "UsePostgreSqlDispatch takes the fast path on the storage the sample configures");
        // The throttle spaces the calls' starts; a request reaches the fake Slack a moment after its call starts, so only
        // a stall of the process between the two (a busy CI machine) could land two requests of a channel closer than the
        // fake's 50 ms of tolerance. Runs have none; a run with the limits off has over a thousand.
        stats.GetProperty("rejected").GetInt32().Should().BeLessThanOrEqualTo(
            Accounts / 100, "the handler's limits keep to one message per second per channel and 3 requests at once per workspace ({0})", stats);
        stats.GetProperty("maxConcurrentPerWorkspace").GetInt32().Should().BeInRange(
            1, 3, "ConcurrencyLimitPerKey is 3 per workspace ({0})", stats);
        stats.GetProperty("messages").GetInt32().Should().Be(
            Accounts, "each account of the run has one message: one per idempotency key, and a key per account ({0})", stats);
    }

    [Fact]
    public async Task Sample_OnPostgreSqlWithTheLimitsOff_IsRateLimitedByTheFakeSlack()
    {
        await using var sample = await StartSampleAsync(new Dictionary<string, string> { ["Sample__Limits"] = "false" });

        await TriggerAndWaitForCompletedRunAsync(sample);
        var stats = await sample.GetJsonAsync("/fake-slack/stats");

        stats.GetProperty("rejected").GetInt32().Should().BeGreaterThan(
            Accounts / 10, "without the limits, 20 workers post as fast as they can ({0})", stats);
        stats.GetProperty("maxConcurrentPerWorkspace").GetInt32().Should().BeGreaterThan(3, "({0})", stats);
    }

    [Fact]
    public async Task Sample_PauseAndResumeEndpoints_HoldTheHandlersJobsBack_SkipNothingOnATrigger_AndReleaseThem()
    {
        await using var sample = await StartSampleAsync(new Dictionary<string, string> { ["Sample__Accounts"] = "20" });

        var handler = await PostJsonAsync(sample, "/handlers/send-slack-notification/pause");
        var cron = await PostJsonAsync(sample, $"/fan-outs/{FanOutId}/pause");
        handler.GetProperty("pausedAt").GetDateTimeOffset().Should().BeAfter(DateTimeOffset.UtcNow.AddMinutes(-5));
        cron.GetProperty("byConfiguration").GetBoolean().Should().BeFalse();
        using (var unknown = await sample.Http.PostAsync(new Uri("/handlers/no-such-handler/pause", UriKind.Relative), content: null))
        {
            unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
            (await unknown.Content.ReadAsStringAsync()).Should().Contain("no-such-handler").And.Contain("send-slack-notification");
        }

        // A paused fan-out still runs when triggered; its handler's jobs are all dispatched paused, so none has run.
        using var trigger = await sample.Http.PostAsync(new Uri($"/fan-outs/{FanOutId}/trigger", UriKind.Relative), content: null);
        var runId = (await trigger.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
        var dispatched = await WaitForRunAsync(sample, runId, run => run.GetProperty("status").GetString() == "Running");
        dispatched.GetProperty("succeeded").GetInt64().Should().Be(0);
        dispatched.GetProperty("inFlight").GetInt64().Should().Be(20);

        (await PostJsonAsync(sample, "/handlers/send-slack-notification/resume")).GetProperty("resumed").GetBoolean().Should().BeTrue();
        (await PostJsonAsync(sample, $"/fan-outs/{FanOutId}/resume")).GetProperty("resumed").GetBoolean().Should().BeTrue();

        var completed = await WaitForCompletedRunAsync(sample.Http, runId, sample.Process);
        completed.GetProperty("succeeded").GetInt64().Should().Be(20);
    }

    private static async Task<JsonElement> PostJsonAsync(RunningSample sample, string path)
    {
        using var response = await sample.Http.PostAsync(new Uri(path, UriKind.Relative), content: null);
        response.StatusCode.Should().Be(HttpStatusCode.OK, sample.Process.Tail());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> WaitForRunAsync(RunningSample sample, string runId, Func<JsonElement, bool> condition)
    {
        JsonElement run = default;
        await Wait.UntilAsync(
            async () => (run = await sample.GetJsonAsync($"/runs/{runId}")) is var found && condition(found),
            RunTimeout,
            () => $"run {runId}: {run}");
        return run;
    }

    private async Task<RunningSample> StartSampleAsync(Dictionary<string, string> settings)
    {
        var connectionString = await postgres.CreateDatabaseAsync("sample");
        var address = new Uri($"http://127.0.0.1:{LoopbackPort.Free().ToString(CultureInfo.InvariantCulture)}");
        settings["ASPNETCORE_URLS"] = address.ToString();
        settings["ConnectionStrings__Hangfire"] = connectionString;
        var process = SampleProcesses.RunWebSample(settings, output);
        try
        {
            await SampleProcesses.WaitUntilAnswersAsync(process, new Uri(address, "/hangfire"), StartTimeout);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new RunningSample(process, new HttpClient { BaseAddress = address }, connectionString);
    }

    private static async Task<JsonElement> TriggerAndWaitForCompletedRunAsync(RunningSample sample)
    {
        using var trigger = await sample.Http.PostAsync(new Uri($"/fan-outs/{FanOutId}/trigger", UriKind.Relative), content: null);
        trigger.StatusCode.Should().Be(HttpStatusCode.OK, sample.Process.Tail());
        var runId = (await trigger.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
        return await WaitForCompletedRunAsync(sample.Http, runId, sample.Process);
    }

    private static async Task<JsonElement> WaitForCompletedRunAsync(HttpClient http, string runId, HostProcess sample)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (true)
        {
            using var response = await http.GetAsync(new Uri($"/runs/{runId}", UriKind.Relative));
            var last = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                var run = JsonSerializer.Deserialize<JsonElement>(last);
                if (run.GetProperty("status").GetString() is "Completed" or "CompletedWithFailures")
                {
                    return run;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Run {runId} did not complete within {RunTimeout.TotalSeconds:F0} s; last seen: {last}{sample.Tail()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    private sealed record RunningSample(HostProcess Process, HttpClient Http, string ConnectionString) : IAsyncDisposable
    {
        public async Task<JsonElement> GetJsonAsync(string path)
        {
            using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
            response.StatusCode.Should().Be(HttpStatusCode.OK, Process.Tail());
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Process.DisposeAsync();
        }
    }

    private static string Normalized(string code) => WhiteSpace().Replace(code, " ");

    // From the call to the end of the options' initializer, comments included.
    [GeneratedRegex(@"UsePostgreSqlStorage\(o => o\.UseNpgsqlConnection\(connectionString\), new PostgreSqlStorageOptions\s*\{[^}]*\}")]
    private static partial Regex StorageCall();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
