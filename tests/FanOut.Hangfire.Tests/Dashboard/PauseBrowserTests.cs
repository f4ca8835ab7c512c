using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Drives Chromium through pausing and resuming a handler on the Fan-out page, as a person would (design.md invariant 16).</summary>
[Collection(HangfireCollection.Name)]
public sealed class PauseBrowserTests
{
    [Fact]
    public async Task Browser_PauseAHandler_ItsJobsShowAsPaused_AndResumeRunsThem()
    {
        await using var server = await DashboardServer.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser);
        var handlerRow = page.Locator($"#fanout-events tr[data-handler='{DashboardServer.AuditHandlerId}']");

        await page.GotoAsync(new Uri(server.DashboardAddress + "/fanout").ToString());
        await Expect(handlerRow.Locator("td[data-paused]")).ToHaveAttributeAsync("data-paused", "false");
        await handlerRow.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();

        await Expect(handlerRow.Locator("td[data-paused]")).ToHaveAttributeAsync("data-paused", "true");
        await Expect(handlerRow.Locator("td[data-paused]")).ToContainTextAsync("paused since");
        await Expect(handlerRow.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeVisibleAsync();

        var runId = await server.Services.GetRequiredService<IFanOutClient>().TriggerAsync(DashboardServer.CronId);
        await server.WaitForRunAsync(runId, r => r.Handlers.Single(h => h.HandlerId == DashboardServer.AuditHandlerId).Paused == DashboardServer.ItemKeys.Count, "to hold the paused handler's jobs");
        await page.GotoAsync(new Uri(server.BaseAddress, DashboardClient.RunPath(runId)).ToString());
        await Expect(page.Locator($"#fanout-handlers tr[data-handler='{DashboardServer.AuditHandlerId}'] [data-segment='paused']")).ToBeVisibleAsync();

        await page.GotoAsync(new Uri(server.DashboardAddress + "/fanout").ToString());
        await handlerRow.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(handlerRow.Locator("td[data-paused]")).ToHaveAttributeAsync("data-paused", "false");

        await server.WaitForRunAsync(runId, r => r.Status == FanOutRunStatus.CompletedWithFailures, "to complete after the resume");
        await page.GotoAsync(new Uri(server.BaseAddress, DashboardClient.RunPath(runId)).ToString());
        await Expect(page.Locator($"#fanout-handlers tr[data-handler='{DashboardServer.AuditHandlerId}'] [data-count='succeeded']"))
            .ToHaveTextAsync(DashboardServer.ItemKeys.Count.ToString(System.Globalization.CultureInfo.CurrentCulture));
    }
}
