using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Cancels a run from its page in Debian's Chromium, as a person would.</summary>
[Collection(HangfireCollection.Name)]
public sealed class CancelBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Browser_CancelOnARunWithCallsHeldAndJobsWaiting_AsksFirst_ThenTheRunEndsCancelledWithItsJobsDeleted()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        var runId = await server.RunWithWaitingJobsAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser);
        string? asked = null;
        page.Dialog += async (_, dialog) =>
        {
            asked = dialog.Message;
            await dialog.AcceptAsync();
        };

        await page.GotoAsync(new Uri(server.BaseAddress, DashboardClient.RunPath(runId)).ToString());
        await Expect(page.Locator("#fanout-run-summary [data-status]")).ToHaveTextAsync("Running");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        await DashboardBrowserTests.ReloadUntilAsync(page, "the run to end cancelled with every job deleted", async () =>
            await page.Locator("#fanout-run-summary [data-status]").InnerTextAsync() == "Cancelled"
            && await DashboardBrowserTests.CountAsync(page, string.Empty, "in-flight") == 0);
        asked.Should().Contain("Cancel this run?");
        await DashboardBrowserTests.ExpectCountAsync(page, string.Empty, "deleted", 14);
        await DashboardBrowserTests.ExpectCountAsync(page, string.Empty, "succeeded", 0);
        await Expect(page.Locator("#fanout-cancel-run")).ToHaveCountAsync(0);
        server.Gate.Started.Should().Be(4, "no job of the run started after the cancel");
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard-run-cancelled.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
