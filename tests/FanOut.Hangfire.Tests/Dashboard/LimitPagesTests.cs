using System.Net;
using FanOut.Hangfire.Dashboard;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// The dashboard shows limits while jobs wait for their slots: the Fan-out page's limits table, a run's waiting count
/// per handler, and Hangfire's own page of a waiting job. The handlers hold their calls on a gate, so the counts are
/// read while the jobs behind them wait, and read again once the gate opens.
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class LimitPagesTests
{
    [Fact]
    public async Task ListPage_JobsWaitingForSlots_ShowsEachLimitWithWhatItAllowsRunningWaitingAndBusiestKeys()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        await server.RunWithWaitingJobsAsync();

        var (status, html) = await client.GetAsync("/hangfire/fanout");

        status.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("<table class=\"table\" id=\"fanout-limits\">");
        var keyed = LimitsHtml.Row(html, DashboardServer.KeyedHandlerId, shared: false);
        keyed.Should().Contain("<span class=\"label label-default\">handler's own</span>")
            .And.Contain($"<td class=\"word-break\" data-handlers>{DashboardServer.KeyedHandlerId}</td>")
            .And.Contain("<td data-allows>3 at once, 2 at once per key</td>");
        LimitsHtml.Count(keyed, "running").Should().Be(3);
        LimitsHtml.Count(keyed, "waiting").Should().Be(4);
        LimitsHtml.Keys(keyed).Should().Equal(["t2", "t1", "t3"], "the key with the most jobs waiting comes first");
        LimitsHtml.KeyCount(keyed, "t2", "running").Should().Be(1);
        LimitsHtml.KeyCount(keyed, "t2", "waiting").Should().Be(2);
        LimitsHtml.KeyCount(keyed, "t1", "waiting").Should().Be(1);
        LimitsHtml.KeyCount(keyed, "t3", "waiting").Should().Be(1);

        var shared = LimitsHtml.Row(html, DashboardServer.SharedLimitName, shared: true);
        shared.Should().Contain("<span class=\"label label-info\">shared</span>")
            .And.Contain($"<td class=\"word-break\" data-handlers>{DashboardServer.SharedHandlerId}</td>")
            .And.Contain("<td data-allows>1 at once</td>")
            .And.Contain("<td><em>—</em></td>", "a limit without a per-key limit has no keys to show");
        LimitsHtml.Count(shared, "running").Should().Be(1);
        LimitsHtml.Count(shared, "waiting").Should().Be(6);

        html.Should().Contain($"<a href=\"#fanout-limit-handler-{DashboardServer.KeyedHandlerId}\">{DashboardServer.KeyedHandlerId}</a>", "the events table links a handler to its limit")
            .And.Contain($"<a href=\"#fanout-limit-shared-{DashboardServer.SharedLimitName}\">{DashboardServer.SharedLimitName}</a>");
    }

    [Fact]
    public async Task RunPage_JobsWaitingForASlot_AreCountedPerHandlerNextToInFlight_UntilTheSlotsFreeUp()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();

        var (status, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        status.Should().Be(HttpStatusCode.OK);
        RunPageHtml.Count(html, DashboardServer.KeyedHandlerId, "in-flight").Should().Be(7);
        RunPageHtml.Count(html, DashboardServer.KeyedHandlerId, "waiting").Should().Be(4);
        RunPageHtml.Count(html, DashboardServer.SharedHandlerId, "in-flight").Should().Be(7);
        RunPageHtml.Count(html, DashboardServer.SharedHandlerId, "waiting").Should().Be(6);
        RunPageHtml.Count(html, string.Empty, "waiting").Should().Be(10);
        html.Should().Contain("title=\"0 succeeded, 0 failed, 0 deleted, 7 in flight (4 waiting for a slot) of 7\"")
            .And.Contain("title=\"0 succeeded, 0 failed, 0 deleted, 7 in flight (6 waiting for a slot) of 7\"")
            .And.Contain("data-segment=\"waiting for a slot\"");
        html.Should().Contain($"limit <a href=\"/hangfire/fanout#fanout-limit-handler-{DashboardServer.KeyedHandlerId}\">{DashboardServer.KeyedHandlerId}</a>: 3 at once, 2 at once per key")
            .And.Contain($"limit <a href=\"/hangfire/fanout#fanout-limit-shared-{DashboardServer.SharedLimitName}\">{DashboardServer.SharedLimitName}</a>: 1 at once");

        server.Gate.Open.SetResult();
        await server.WaitForRunAsync(runId, r => r.Status == FanOutRunStatus.Completed, "to complete once the calls return");
        (_, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        RunPageHtml.Count(html, DashboardServer.KeyedHandlerId, "waiting").Should().Be(0);
        RunPageHtml.Count(html, string.Empty, "waiting").Should().Be(0);
        RunPageHtml.Count(html, string.Empty, "succeeded").Should().Be(14);
        html.Should().NotContain("data-segment=\"waiting for a slot\"");
        server.Gate.MaxRunning.Should().BeLessThanOrEqualTo(4, "3 calls of the keyed handler and 1 of the shared limit at most");
    }

    [Fact]
    public async Task JobPage_JobWaitingForASlot_ShowsTheLimitAndKeyItWaitsFor()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        await server.RunWithWaitingJobsAsync();
        var keyed = WaitingJobs(server, "handler:" + DashboardServer.KeyedHandlerId).First(j => j.Key == "t2").JobId;
        var shared = WaitingJobs(server, "limit:" + DashboardServer.SharedLimitName).First().JobId;

        var (keyedStatus, keyedHtml) = await client.GetAsync(JobPath(keyed));
        var (sharedStatus, sharedHtml) = await client.GetAsync(JobPath(shared));

        keyedStatus.Should().Be(HttpStatusCode.OK);
        keyedHtml.Should().Contain("<div class=\"state-card state-card-state-info\"", "the waiting state has its colour")
            .And.Contain("<p class=\"fanout-waiting\">Waiting for a slot of <strong>keyed-check</strong>, key <code>t2</code></p>")
            .And.Contain("<dd data-limit=\"keyed-check\">keyed-check (the handler&#39;s own)</dd>")
            .And.Contain("<dt>Key:</dt><dd><code>t2</code></dd>");
        sharedStatus.Should().Be(HttpStatusCode.OK);
        sharedHtml.Should().Contain("<p class=\"fanout-waiting\">Waiting for a slot of <strong>partner-api</strong></p>")
            .And.Contain("<dd data-limit=\"partner-api\">partner-api (shared)</dd>")
            .And.NotContain("<dt>Key:</dt>");
    }

    [Fact]
    public void WaitingState_ThrottledStart_ShowsTheLimitKeyAndWhenItStarts()
    {
        FanOutDashboard.EnsureRegistered();
        var due = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var helper = new HtmlHelper(new FanOutRunPage(new FanOutRunModel(new DashboardServices(null, null, default), "run", null, HandlerLimits.None, [])));

        var html = helper.RenderHistory(WaitingStateRenderer.StateName, new Dictionary<string, string>
        {
            ["Limit"] = "limit:slack-api",
            ["Key"] = "C-<1>",
            ["Due"] = due.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).ToString();

        html.Should().StartWith("<p class=\"fanout-waiting\">Throttled by <strong>slack-api</strong>, key <code>C-&lt;1&gt;</code>: starts <span data-moment=\"1893553445\">")
            .And.Contain("<dd data-limit=\"slack-api\">slack-api (shared)</dd>")
            .And.Contain("<dt>Starts at:</dt><dd>2030-01-02 03:04:05Z</dd>");
        JobHistoryRenderer.GetStateCssSuffix(WaitingStateRenderer.StateName).Should().Be("info");
    }

    [Fact]
    public async Task LimitPages_WhenTheAuthorizationFilterRefuses_AreRefused()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithWaitingJobsAsync();
        var jobId = WaitingJobs(server, "limit:" + DashboardServer.SharedLimitName).First().JobId;
        server.Access.Allow = false;

        foreach (var path in new[] { "/hangfire/fanout", DashboardClient.RunPath(runId), JobPath(jobId) })
        {
            var (status, html) = await client.GetAsync(path);

            status.Should().BeOneOf([HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden], path);
            html.Should().NotContain(DashboardServer.SharedLimitName, path);
        }
    }

    internal static string JobPath(string jobId) => $"/hangfire/jobs/details/{jobId}";

    /// <summary>The jobs waiting for a slot of a limit (by its storage id), with the key their state names.</summary>
    internal static IReadOnlyList<(string JobId, string Key)> WaitingJobs(DashboardServer server, string limit)
    {
        using var connection = server.Storage.GetConnection();
        return [.. connection.GetAllItemsFromSet(StorageKeys.FlowWaiting(limit))
            .Select(jobId => (jobId, connection.GetStateData(jobId)))
            .Where(j => j.Item2?.Name == WaitingStateRenderer.StateName)
            .Select(j => (j.jobId, j.Item2!.Data.TryGetValue("Key", out var key) ? key : string.Empty))];
    }
}
