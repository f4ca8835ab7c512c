using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>"Retry failed runs" on a fan-out's page, clicked in Chromium as a person would.</summary>
[Collection(HangfireCollection.Name)]
public sealed class RetryFailedRunsBrowserTests
{
    [Fact]
    public async Task Browser_RetryFailedRunsOnAFanOutsPage_RequeuesTheFailedItemsOfItsRuns_AndSaysHowMany()
    {
        await using var server = await DashboardServer.StartAsync();
        var runIds = new[] { await server.RunWithFailuresAsync(), await server.RunWithFailuresAsync() };
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser);

        await page.GotoAsync(new Uri(server.BaseAddress, "/hangfire/fanout").ToString());
        var cron = page.Locator($"#fanout-crons tr[data-fanout='{DashboardServer.CronId}']");
        await Expect(cron.Locator("[data-firing='trigger']")).ToHaveTextAsync("manual trigger");
        await cron.GetByRole(AriaRole.Link, new() { Name = DashboardServer.CronId }).ClickAsync();
        await Expect(page.Locator("#fanout-runs tbody tr")).ToHaveCountAsync(2);
        server.Broken.Keys.Clear();

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry failed runs" }).ClickAsync();

        await Expect(page.Locator("#fanout-retry-failed-runs-result"))
            .ToHaveTextAsync($"Requeued {2 * DashboardServer.BrokenKeys.Count} failed jobs of 2 runs (2 runs started in the range).");
        foreach (var runId in runIds)
        {
            await server.WaitForRunAsync(runId, r => r.Failed == 0 && r.Succeeded == DashboardServer.JobsPerRun, "to succeed after the retry");
        }
    }
}
