using System.Net;
using FanOut.Hangfire.Tests.Infrastructure;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>The "Cancel" command of a run's page honours the dashboard's authorization filters and antiforgery, as "Retry failed" does.</summary>
[Collection(HangfireCollection.Name)]
public sealed class CancelSecurityTests
{
    [Fact]
    public async Task Cancel_WithTheAntiforgeryToken_CancelsTheRun()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId));

        var status = await client.PostAsync(CancelPath(runId), [(header, token)]);

        status.Should().Be(HttpStatusCode.NoContent);
        await ShouldEndCancelledAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_WithoutTheAntiforgeryToken_IsRefusedAndCancelsNothing()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();
        await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId)); // the cookie half alone is not enough

        var status = await client.PostAsync(CancelPath(runId));

        ((int)status).Should().BeInRange(400, 499);
        await ShouldHaveCancelledNothingAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_WithAnotherSessionsAntiforgeryToken_IsRefusedAndCancelsNothing()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var attacker = new DashboardClient(server);
        using var victim = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();
        var (header, token) = await attacker.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        await victim.GetAntiforgeryAsync(DashboardClient.RunPath(runId));

        var status = await victim.PostAsync(CancelPath(runId), [(header, token)]);

        ((int)status).Should().BeInRange(400, 499);
        await ShouldHaveCancelledNothingAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_WhenTheAuthorizationFilterRefuses_IsRefusedAndCancelsNothing()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        server.Access.Allow = false;
        var judged = server.Access.Judged;

        var status = await client.PostAsync(CancelPath(runId), [(header, token)]);

        status.Should().BeOneOf(HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden);
        server.Access.Judged.Should().BeGreaterThan(judged, "the dashboard's filter judged the request");
        await ShouldHaveCancelledNothingAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_ByGet_IsNotAllowedAndCancelsNothing()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();

        var (status, _) = await client.GetAsync(CancelPath(runId));

        status.Should().Be(HttpStatusCode.MethodNotAllowed);
        await ShouldHaveCancelledNothingAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_OnAReadOnlyDashboard_HasNoButtonAndIsRefused()
    {
        await using var server = await DashboardServer.StartAsync(readOnly: true, limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();
        var (header, token) = await client.GetAntiforgeryAsync(DashboardClient.RunPath(runId));
        var (_, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        var status = await client.PostAsync(CancelPath(runId), [(header, token)]);

        html.Should().NotContain("fanout-cancel-run");
        status.Should().Be(HttpStatusCode.Forbidden);
        await ShouldHaveCancelledNothingAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_CrossSiteInAnAppWithoutAntiforgery_IsRefused_AndSameOriginCancels()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false, limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();

        var crossSite = await client.PostAsync(CancelPath(runId), [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://other.example")]);
        var sameSite = await client.PostAsync(CancelPath(runId), [("Sec-Fetch-Site", "same-site")]);

        crossSite.Should().Be(HttpStatusCode.Forbidden);
        sameSite.Should().Be(HttpStatusCode.Forbidden, "a sibling subdomain is another origin");
        await ShouldHaveCancelledNothingAsync(server, runId);

        var sameOrigin = await client.PostAsync(CancelPath(runId), [("Sec-Fetch-Site", "same-origin")]);

        sameOrigin.Should().Be(HttpStatusCode.NoContent);
        await ShouldEndCancelledAsync(server, runId);
    }

    [Fact]
    public async Task Cancel_UnknownRun_IsNotFound_AndACompletedRunHasNoButton()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);
        var completed = await server.RunWithFailuresAsync();

        var status = await client.PostAsync(CancelPath("no-such-run"));
        var (_, html) = await client.GetAsync(DashboardClient.RunPath(completed));

        status.Should().Be(HttpStatusCode.NotFound);
        html.Should().NotContain("fanout-cancel-run", "a completed run has nothing left to cancel");
    }

    internal static string CancelPath(string runId) => DashboardClient.RunPath(runId) + "/cancel";

    /// <summary>The cancel records the run within the request, so right after the response is the time to look.</summary>
    private static async Task ShouldHaveCancelledNothingAsync(DashboardServer server, string runId)
    {
        var run = await server.Runs.GetAsync(runId);
        run!.Status.Should().Be(FanOutRunStatus.Running, DashboardServer.Describe(run));
        run.Deleted.Should().Be(0);
        run.Handlers.Sum(h => h.Waiting).Should().Be(10, "the jobs behind the held calls still wait");
    }

    private static async Task ShouldEndCancelledAsync(DashboardServer server, string runId)
    {
        var run = await server.WaitForRunAsync(runId, r => r.Status == FanOutRunStatus.Cancelled && r.CompletedAt is not null, "to end cancelled");
        run.Deleted.Should().Be(run.DispatchedJobs, "the waiting jobs were deleted and the held calls stopped on their token");
        server.Gate.Started.Should().Be(4, "no job of the run started after the cancel");
    }
}
