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
    public async Task Sample_OnPostgreSql_DispatchesThroughTheFastPath_AndATriggeredRunCompletes()
    {
        var connectionString = await postgres.CreateDatabaseAsync("sample");
        var address = new Uri($"http://127.0.0.1:{LoopbackPort.Free().ToString(CultureInfo.InvariantCulture)}");
        await using var sample = SampleProcesses.RunWebSample(
            new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = address.ToString(),
                ["ConnectionStrings__Hangfire"] = connectionString,
                ["Sample__Accounts"] = Accounts.ToString(CultureInfo.InvariantCulture),
            },
            output);
        await SampleProcesses.WaitUntilAnswersAsync(sample, new Uri(address, "/hangfire"), StartTimeout);
        using var http = new HttpClient { BaseAddress = address };

        using var trigger = await http.PostAsync(new Uri($"/fan-outs/{FanOutId}/trigger", UriKind.Relative), content: null);
        trigger.StatusCode.Should().Be(HttpStatusCode.OK, sample.Tail());
        var runId = (await trigger.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
        var run = await WaitForCompletedRunAsync(http, runId, sample);

        run.GetProperty("dispatchedItems").GetInt64().Should().Be(Accounts);
        run.GetProperty("succeeded").GetInt64().Should().Be(Accounts, "every notification is posted, retries included");
        run.GetProperty("failed").GetInt64().Should().Be(0);
        sample.Lines.Should().Contain(
            line => line.Contains("writes child jobs through the PostgreSQL fast path", StringComparison.Ordinal),
            "UsePostgreSqlDispatch takes the fast path on the storage the sample configures");
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
                if (run.GetProperty("status").GetString() == "Completed")
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

    private static string Normalized(string code) => WhiteSpace().Replace(code, " ");

    // From the call to the end of the options' initializer, comments included.
    [GeneratedRegex(@"UsePostgreSqlStorage\(o => o\.UseNpgsqlConnection\(connectionString\), new PostgreSqlStorageOptions\s*\{[^}]*\}")]
    private static partial Regex StorageCall();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
