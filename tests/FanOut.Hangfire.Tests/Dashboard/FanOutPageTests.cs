using System.Net;
using System.Text.RegularExpressions;
using FanOut.Hangfire.Dashboard;
using FanOut.Hangfire.Tests.Infrastructure;

namespace FanOut.Hangfire.Tests.Dashboard;

[Collection(HangfireCollection.Name)]
public sealed class FanOutPageTests
{
    private const string EncodedScriptKey = "&lt;script&gt;alert(&#39;fan-out&#39;)&lt;/script&gt;";

    [Fact]
    public async Task HomePage_NavigationMenu_LinksToFanOutPageOnceHoweverOftenRegistered()
    {
        Parallel.For(0, 8, _ => FanOutDashboard.EnsureRegistered());
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);

        var (status, html) = await client.GetAsync("/hangfire");

        status.Should().Be(HttpStatusCode.OK);
        Regex.Matches(html, "<a href=\"/hangfire/fanout\">\\s*Fan-out").Should().ContainSingle();
    }

    [Fact]
    public async Task ListPage_ShowsCronFanOutEventHandlersAndRecentRunWithProgress()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();

        var (status, html) = await client.GetAsync("/hangfire/fanout");

        status.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("<title>Fan-out – Hangfire Dashboard</title>", "the page is in Hangfire's layout");
        html.Should().Contain($"<tr data-fanout=\"{DashboardServer.CronId}\">")
            .And.Contain("<code class=\"cron-badge\">0 3 1 1 *</code>")
            .And.Contain("<td>UTC</td>")
            .And.Contain($"<td><code>{nameof(Fakes.CompletionRecorder)}</code></td>")
            .And.Contain("data-moment=", "next and last firing are Hangfire's relative times");
        html.Should().Contain($"<tr data-event=\"{DashboardServer.EventName}\" data-handler=\"{DashboardServer.CheckHandlerId}\">")
            .And.Contain($"<tr data-event=\"{DashboardServer.EventName}\" data-handler=\"{DashboardServer.AuditHandlerId}\">");
        html.Should().Contain($"href=\"{DashboardClient.RunPath(runId)}\"");
        html.Should().Contain("progress-bar progress-bar-success").And.Contain("progress-bar progress-bar-danger");
        html.Should().Contain("title=\"8 succeeded, 2 failed, 0 deleted, 0 in flight of 10\"");
        html.Should().NotContain("fanout-limits", "no handler has a limit").And.NotContain("<th>Limit</th>");
    }

    [Fact]
    public async Task RunPage_ShowsCountsPerHandlerAndFailedItemsLinkedToTheirJobs()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();

        var (status, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        status.Should().Be(HttpStatusCode.OK);
        RunPageHtml.Count(html, DashboardServer.CheckHandlerId, "dispatched").Should().Be(5);
        RunPageHtml.Count(html, DashboardServer.CheckHandlerId, "succeeded").Should().Be(3);
        RunPageHtml.Count(html, DashboardServer.CheckHandlerId, "failed").Should().Be(2);
        RunPageHtml.Count(html, DashboardServer.CheckHandlerId, "in-flight").Should().Be(0);
        RunPageHtml.Count(html, DashboardServer.AuditHandlerId, "succeeded").Should().Be(5);
        RunPageHtml.Count(html, DashboardServer.AuditHandlerId, "failed").Should().Be(0);
        RunPageHtml.Count(html, string.Empty, "failed").Should().Be(2);
        RunPageHtml.Count(html, string.Empty, "deleted").Should().Be(0);
        html.Should().NotContain("data-count=\"waiting\"", "no handler has a limit, so no job can wait for a slot");

        var failed = await server.Runs.GetFailedItemsAsync(runId);
        failed.Select(f => f.ItemKey).Should().BeEquivalentTo(DashboardServer.BrokenKeys);
        RunPageHtml.JobLinks(html).Should().BeEquivalentTo(failed.Select(f => f.JobId));
        html.Should().Contain("acct-3 is broken").And.Contain("InvalidOperationException");
        html.Should().Contain("id=\"fanout-retry-failed\"")
            .And.Contain($"data-ajax=\"{DashboardClient.RetryFailedPath(runId)}\"");
    }

    [Fact]
    public async Task RunPage_ItemKeyAndErrorWithMarkup_AreShownEncoded()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();

        var (_, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        html.Should().NotContain(DashboardServer.ScriptKey);
        html.Should().Contain($"<td class=\"word-break\" data-item-key>{EncodedScriptKey}</td>");
        html.Should().Contain($"{EncodedScriptKey} is broken");
    }

    [Fact]
    public async Task RunPage_UnknownRun_IsNotFoundWithAMessage()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);

        var (status, html) = await client.GetAsync(DashboardClient.RunPath("no-such-run"));

        status.Should().Be(HttpStatusCode.NotFound);
        html.Should().Contain("No run has this id, or its record expired.");
    }
}
