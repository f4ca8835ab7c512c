using System.Net;
using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// The run page tells jobs waiting for their retry apart (design.md invariant 19), and shows what handlers logged: the
/// last lines of a failed item under it, and every attempt's lines on Hangfire's job page (invariant 18).
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class RetryAndLogPagesTests
{
    [Fact]
    public async Task RunPage_EveryJobWaitingForItsRetry_SaysHowManyAndWhenTheNextIsDue_AndIsNotGreen()
    {
        await using var server = await DashboardServer.StartAsync(retries: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithRetryingJobsAsync();
        var run = await server.Runs.GetAsync(runId);

        var (status, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        status.Should().Be(HttpStatusCode.OK);
        RunPageHtml.Count(html, DashboardServer.RetryingHandlerId, "in-flight").Should().Be(4);
        RunPageHtml.Count(html, DashboardServer.RetryingHandlerId, "retrying").Should().Be(4);
        RunPageHtml.Count(html, string.Empty, "retrying").Should().Be(4);
        html.Should().Contain("<div class=\"alert alert-warning\" id=\"fanout-retrying\">No job of this run has run out of retries yet, but <strong data-count=\"retrying\">4</strong> jobs failed an attempt and wait for their next one; the next is due ")
            .And.NotContain("No job of this run failed with no retries left", "a run whose every job fails is not shown as healthy")
            .And.NotContain("alert-success");
        html.Should().Contain($"data-next-retry=\"{run!.NextRetryAt!.Value.ToUnixTimeMilliseconds()}\"");
        html.Should().Contain("data-segment=\"waiting for a retry\"").And.Contain("(4 waiting for a retry) of 4\"");
        html.Should().Contain("href=\"/hangfire/jobs/scheduled\"");
    }

    [Fact]
    public async Task RunPage_AFailedItem_ShowsTheLastLinesItsHandlerLogged_LinkedToItsJobsPage()
    {
        await using var server = await DashboardServer.StartAsync(retries: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithLoggedFailureAsync();
        var jobId = server.Services.GetRequiredService<ChattyCalls>().JobOf("broken-1");

        var (_, html) = await client.GetAsync(DashboardClient.RunPath(runId));

        var row = Regex.Match(html, $"<tr class=\"fanout-item-log\" data-log-for=\"{jobId}\">(.*?)</tr>", RegexOptions.Singleline);
        row.Success.Should().BeTrue("the failed item has its log row");
        row.Groups[1].Value.Should().Contain("Last 3 of 3 lines logged by attempt 1")
            .And.Contain($"href=\"/hangfire/jobs/details/{jobId}#fanout-job-log\"")
            .And.Contain("Information FanOut.Hangfire.Tests.Fakes.ChattyHandler: Handling broken-1, attempt 1")
            .And.Contain("Warning FanOut.Hangfire.Tests.Fakes.ChattyHandler: Giving up on broken-1 for now | System.InvalidOperationException: broken-1 failed on attempt 1");
        html.Should().NotContain("id=\"fanout-retrying\"", "nothing waits for a retry");
    }

    [Fact]
    public async Task JobPage_OfAChildJob_ShowsEachAttemptsLog_AndOfAnotherJobNothing()
    {
        await using var server = await DashboardServer.StartAsync(retries: true);
        using var client = new DashboardClient(server);
        await server.RunWithLoggedFailureAsync();
        var calls = server.Services.GetRequiredService<ChattyCalls>();
        var plain = server.Services.GetRequiredService<IBackgroundJobClient>().Schedule(() => Console.WriteLine("plain"), TimeSpan.FromHours(1));

        var (status, html) = await client.GetAsync(LimitPagesTests.JobPath(calls.JobOf("broken-1")));
        var (_, plainHtml) = await client.GetAsync(LimitPagesTests.JobPath(plain));

        status.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("<h3 id=\"fanout-job-log\">Handler log</h3>").And.Contain("<h4>Attempt 1</h4>");
        html.Should().Contain("<td class=\"word-break\" data-message>Handling broken-1, attempt 1</td>")
            .And.Contain("<span class=\"label label-warning\">Warning</span>")
            .And.Contain("<pre class=\"stack-trace\" style=\"white-space: pre-wrap;\">System.InvalidOperationException: broken-1 failed on attempt 1");
        html.Should().NotContain("Unflowed thread").And.NotContain("Debug detail");
        plainHtml.Should().NotContain("fanout-job-log", "only fan-out child jobs have a handler log");
    }
}
