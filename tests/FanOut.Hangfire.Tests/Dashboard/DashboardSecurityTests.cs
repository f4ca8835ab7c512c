using System.Net;
using FanOut.Hangfire.Tests.Infrastructure;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>The Fan-out pages and their command honour the dashboard's authorization filters and antiforgery.</summary>
[Collection(HangfireCollection.Name)]
public sealed class DashboardSecurityTests
{
    [Fact]
    public async Task RetryFailed_WithTheAntiforgeryToken_RequeuesTheFailedJobs()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        server.Broken.Keys.Clear();

        var status = await client.PostAsync(DashboardClient.RetryFailedPath(runId), [(header, token)]);

        status.Should().Be(HttpStatusCode.NoContent);
        await server.WaitForRunAsync(runId, r => r.Failed == 0 && r.Succeeded == DashboardServer.JobsPerRun, "to succeed after the retry");
    }

    [Fact]
    public async Task RetryFailed_WithoutTheAntiforgeryToken_IsRefusedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId)); // the cookie half alone is not enough

        var status = await client.PostAsync(DashboardClient.RetryFailedPath(runId));

        ((int)status).Should().BeInRange(400, 499);
        await ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailed_WithAnotherSessionsAntiforgeryToken_IsRefusedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var attacker = new DashboardClient(server);
        using var victim = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        var (header, token) = await attacker.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        await victim.GetAntiforgeryAsync(DashboardClient.RunPath(runId));

        var status = await victim.PostAsync(DashboardClient.RetryFailedPath(runId), [(header, token)]);

        ((int)status).Should().BeInRange(400, 499);
        await ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailed_WhenTheAuthorizationFilterRefuses_IsRefusedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        server.Access.Allow = false;
        var judged = server.Access.Judged;

        var status = await client.PostAsync(DashboardClient.RetryFailedPath(runId), [(header, token)]);

        status.Should().BeOneOf(HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden);
        server.Access.Judged.Should().BeGreaterThan(judged, "the dashboard's filter judged the request");
        await ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task Pages_WhenTheAuthorizationFilterRefuses_AreRefused()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        server.Access.Allow = false;

        foreach (var path in new[] { "/hangfire/fanout", DashboardClient.RunPath(runId) })
        {
            var (status, html) = await client.GetAsync(path);

            status.Should().BeOneOf([HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden], path);
            html.Should().NotContain(DashboardServer.CronId, path);
        }
    }

    [Fact]
    public async Task RetryFailed_ByGet_IsNotAllowedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();

        var (status, _) = await client.GetAsync(DashboardClient.RetryFailedPath(runId));

        status.Should().Be(HttpStatusCode.MethodNotAllowed);
        await ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailed_OnAReadOnlyDashboard_HasNoButtonAndIsRefused()
    {
        await using var server = await DashboardServer.StartAsync(readOnly: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        var (_, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        var status = await client.PostAsync(DashboardClient.RetryFailedPath(runId), [(header, token)]);

        html.Should().NotContain("fanout-retry-failed");
        status.Should().Be(HttpStatusCode.Forbidden);
        await ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailed_CrossSiteInAnAppWithoutAntiforgery_IsRefusedAndRequeuesNothing()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();

        var crossSite = await client.PostAsync(DashboardClient.RetryFailedPath(runId), [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://other.example")]);
        var sameSite = await client.PostAsync(DashboardClient.RetryFailedPath(runId), [("Sec-Fetch-Site", "same-site")]);

        crossSite.Should().Be(HttpStatusCode.Forbidden);
        sameSite.Should().Be(HttpStatusCode.Forbidden, "a sibling subdomain is another origin");
        await ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [Fact]
    public async Task RetryFailed_SameOriginInAnAppWithoutAntiforgery_Requeues()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        server.Broken.Keys.Clear();

        var status = await client.PostAsync(DashboardClient.RetryFailedPath(runId), [("Sec-Fetch-Site", "same-origin")]);

        status.Should().Be(HttpStatusCode.NoContent);
        await server.WaitForRunAsync(runId, r => r.Failed == 0 && r.Succeeded == DashboardServer.JobsPerRun, "to succeed after the retry");
    }

    [Fact]
    public async Task RetryFailed_UnknownRun_IsNotFound()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);

        var status = await client.PostAsync(DashboardClient.RetryFailedPath("no-such-run"));

        status.Should().Be(HttpStatusCode.NotFound);
    }

    /// <summary>A requeue changes the jobs' states within the request, so right after the response is the time to look.</summary>
    internal static async Task ShouldHaveRequeuedNothingAsync(DashboardServer server, string runId)
    {
        var run = await server.Runs.GetAsync(runId);
        run!.Failed.Should().Be(DashboardServer.BrokenKeys.Count, DashboardServer.Describe(run));
        run.Completions.Should().Be(1, "the run was not reopened");
        (await server.Runs.GetFailedItemsAsync(runId)).Select(f => f.ItemKey).Should().BeEquivalentTo(DashboardServer.BrokenKeys);
    }
}
