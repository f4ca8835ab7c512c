using System.Net;
using System.Text.Json;
using FanOut.Hangfire.Tests.Infrastructure;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// A fan-out's "Retry failed runs" command honours the dashboard's authorization filters and antiforgery, as
/// "Retry failed" does (<see cref="DashboardSecurityTests"/>).
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class RetryFailedRunsSecurityTests
{
    private static string AllOfToday(string name = DashboardServer.CronId) =>
        DashboardClient.RetryFailedRunsPath(name, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(1));

    [Fact]
    public async Task RetryFailedRuns_WithTheAntiforgeryToken_RequeuesTheFailedJobsOfEveryRunInTheRange_AndSaysHowMany()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runIds = new[] { await server.RunWithFailuresAsync(), await server.RunWithFailuresAsync() };
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.FanOutPath(DashboardServer.CronId));
        server.Broken.Keys.Clear();

        var (status, body) = await client.PostReadingAsync(AllOfToday(), [(header, token)]);

        status.Should().Be(HttpStatusCode.OK, body);
        var counts = JsonSerializer.Deserialize<JsonElement>(body);
        counts.GetProperty("runsExamined").GetInt32().Should().Be(2);
        counts.GetProperty("runsRetried").GetInt32().Should().Be(2);
        counts.GetProperty("jobsRequeued").GetInt32().Should().Be(2 * DashboardServer.BrokenKeys.Count);
        foreach (var runId in runIds)
        {
            await server.WaitForRunAsync(runId, r => r.Failed == 0 && r.Succeeded == DashboardServer.JobsPerRun, "to succeed after the retry");
        }
    }

    [Fact]
    public async Task RetryFailedRuns_WithoutTheAntiforgeryToken_IsRefusedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        await client.GetAntiforgeryAsync(DashboardClient.FanOutPath(DashboardServer.CronId));

        var status = await client.PostAsync(AllOfToday());

        ((int)status).Should().BeInRange(400, 499);
        await DashboardSecurityTests.ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailedRuns_WhenTheAuthorizationFilterRefuses_IsRefusedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.FanOutPath(DashboardServer.CronId));
        server.Access.Allow = false;
        var judged = server.Access.Judged;

        var status = await client.PostAsync(AllOfToday(), [(header, token)]);

        status.Should().BeOneOf(HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden);
        server.Access.Judged.Should().BeGreaterThan(judged, "the dashboard's filter judged the request");
        await DashboardSecurityTests.ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailedRuns_ByGet_IsNotAllowedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();

        var (status, _) = await client.GetAsync(AllOfToday());

        status.Should().Be(HttpStatusCode.MethodNotAllowed);
        await DashboardSecurityTests.ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailedRuns_OnAReadOnlyDashboard_HasNoButtonAndIsRefused()
    {
        await using var server = await DashboardServer.StartAsync(readOnly: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.FanOutPath(DashboardServer.CronId));
        var (_, html) = await client.GetAsync(DashboardClient.FanOutPath(DashboardServer.CronId));

        var status = await client.PostAsync(AllOfToday(), [(header, token)]);

        html.Should().NotContain("fanout-retry-failed-runs");
        status.Should().Be(HttpStatusCode.Forbidden);
        await DashboardSecurityTests.ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailedRuns_CrossSiteInAnAppWithoutAntiforgery_IsRefused_AndSameOriginRequeues()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        server.Broken.Keys.Clear();

        var crossSite = await client.PostAsync(AllOfToday(), [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://other.example")]);
        var sameSite = await client.PostAsync(AllOfToday(), [("Sec-Fetch-Site", "same-site")]);

        crossSite.Should().Be(HttpStatusCode.Forbidden);
        sameSite.Should().Be(HttpStatusCode.Forbidden, "a sibling subdomain is another origin");
        (await server.Runs.GetAsync(runId))!.Failed.Should().Be(DashboardServer.BrokenKeys.Count, "nothing was requeued");

        (await client.PostAsync(AllOfToday(), [("Sec-Fetch-Site", "same-origin")])).Should().Be(HttpStatusCode.OK);
        await server.WaitForRunAsync(runId, r => r.Failed == 0 && r.Succeeded == DashboardServer.JobsPerRun, "to succeed after the retry");
    }

    [Fact]
    public async Task RetryFailedRuns_UnknownNameOrBadRange_IsRefused()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);
        var now = DateTimeOffset.UtcNow;

        (await client.PostAsync(AllOfToday("no-such-fan-out"))).Should().Be(HttpStatusCode.NotFound);
        (await client.PostAsync(DashboardClient.RetryFailedRunsPath(DashboardServer.CronId, now, now.AddHours(-1)))).Should().Be(HttpStatusCode.BadRequest);
        (await client.PostAsync($"/hangfire/fanout/retry-failed-runs?name={DashboardServer.CronId}&from=yesterday&to=today")).Should().Be(HttpStatusCode.BadRequest);
    }
}
