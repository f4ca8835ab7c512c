using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// Drives Debian's Chromium through a run whose jobs all wait for their retry, and from a failed item's last log lines to
/// its job's page with every line its handler logged (design.md invariants 18 and 19).
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class RetryAndLogBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Browser_RunsWithRetriesAndFailures_ShowTheRetriesWaiting_AndEachFailedItemsLogDownToItsJobPage()
    {
        await using var server = await DashboardServer.StartAsync(retries: true);
        var retryingRun = await server.RunWithRetryingJobsAsync();
        var loggedRun = await server.RunWithLoggedFailureAsync();
        // Both runs have an item broken-1: the job to follow is the logged run's failed one.
        var brokenJob = (await server.Services.GetRequiredService<IFanOutRuns>().GetFailedItemsAsync(loggedRun))
            .Single(f => f.ItemKey == "broken-1").JobId;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser);

        await page.GotoAsync(new Uri(server.BaseAddress, DashboardClient.RunPath(retryingRun)).ToString());
        await Expect(page.Locator("#fanout-retrying")).ToContainTextAsync("4 jobs failed an attempt and wait for their next one; the next is due");
        await Expect(page.Locator(".alert-success")).ToHaveCountAsync(0);
        await Expect(page.Locator($"#fanout-handlers tr[data-handler='{DashboardServer.RetryingHandlerId}'] [data-count='retrying']")).ToHaveTextAsync("4");
        await Expect(page.Locator($"#fanout-handlers tr[data-handler='{DashboardServer.RetryingHandlerId}'] [data-segment='waiting for a retry']")).ToBeVisibleAsync();
        await Expect(page.Locator("#fanout-run-summary [data-next-retry]")).ToContainTextAsync(new Regex("minutes"));
        await Chromium.SaveScreenshotAsync(page, "dashboard-run-retrying.png", output);

        await page.GotoAsync(new Uri(server.BaseAddress, DashboardClient.RunPath(loggedRun)).ToString());
        var log = page.Locator($"#fanout-failed-items tr[data-log-for='{brokenJob}'] pre.fanout-log");
        await Expect(log).ToContainTextAsync("Giving up on broken-1 for now | System.InvalidOperationException: broken-1 failed on attempt 1");
        await Chromium.SaveScreenshotAsync(page, "dashboard-run-failed-item-log.png", output);
        await page.Locator($"#fanout-failed-items tr[data-log-for='{brokenJob}'] a").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"/hangfire/jobs/details/{brokenJob}#fanout-job-log$"));
        var attempt = page.Locator("table.fanout-job-log[data-attempt='1']");
        await Expect(page.Locator("#fanout-job-log")).ToHaveTextAsync("Handler log");
        await Expect(attempt.Locator("tr")).ToHaveCountAsync(3);
        await Expect(attempt.Locator("tr[data-level='Warning'] pre.stack-trace")).ToContainTextAsync("broken-1 failed on attempt 1");
        await Expect(attempt.Locator("[data-message]").First).ToHaveTextAsync("Handling broken-1, attempt 1");
        await Chromium.SaveScreenshotAsync(page, "dashboard-job-log.png", output);
    }
}
