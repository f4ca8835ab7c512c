using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Drives Debian's Chromium through the dashboard as a person would.</summary>
[Collection(HangfireCollection.Name)]
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly TimeSpan RetryTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Browser_RetryFailedOnARunWithFailures_BringsTheFailedCountDown()
    {
        await using var server = await DashboardServer.StartAsync();
        var runId = await server.RunWithFailuresAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await NewPageAsync(browser);

        await page.GotoAsync(server.DashboardAddress.ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Fan-out", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hangfire/fanout$"));
        await Expect(page.Locator($"#fanout-crons tr[data-fanout='{DashboardServer.CronId}']")).ToBeVisibleAsync();
        await SaveScreenshotAsync(page, "dashboard-fanout.png");
        await page.Locator($"#fanout-runs tr[data-run='{runId}'] a.fanout-run-link").ClickAsync();

        await Expect(page.Locator("h1")).ToContainTextAsync(runId);
        await ExpectCountAsync(page, DashboardServer.CheckHandlerId, "succeeded", 3);
        await ExpectCountAsync(page, DashboardServer.CheckHandlerId, "failed", 2);
        await ExpectCountAsync(page, DashboardServer.AuditHandlerId, "succeeded", 5);
        await ExpectCountAsync(page, string.Empty, "failed", 2);
        await Expect(page.Locator("#fanout-failed-items tbody tr")).ToHaveCountAsync(2);
        (await page.Locator("#fanout-failed-items [data-item-key]").AllInnerTextsAsync())
            .Should().BeEquivalentTo(DashboardServer.BrokenKeys, "keys with markup show as text");
        await SaveScreenshotAsync(page, "dashboard-run-with-failures.png");

        server.Broken.Keys.Clear();
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry failed" }).ClickAsync();

        await ReloadUntilAsync(page, "the retried jobs to show as succeeded", async () =>
            await CountAsync(page, string.Empty, "failed") == 0 && await CountAsync(page, string.Empty, "succeeded") == DashboardServer.JobsPerRun);
        await ExpectCountAsync(page, DashboardServer.CheckHandlerId, "succeeded", 5);
        await Expect(page.Locator("#fanout-retry-failed")).ToHaveCountAsync(0);
        await SaveScreenshotAsync(page, "dashboard-run-retried.png");
    }

    [Fact]
    public async Task Browser_HandlersWithJobsWaitingForSlots_ShowsTheLimitsTheWaitingCountsAndAWaitingJob()
    {
        await using var server = await DashboardServer.StartAsync(limits: true);
        var runId = await server.RunWithWaitingJobsAsync();
        var waitingJob = LimitPagesTests.WaitingJobs(server, "handler:" + DashboardServer.KeyedHandlerId).First(j => j.Key == "t2").JobId;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await NewPageAsync(browser);

        await page.GotoAsync(server.DashboardAddress.ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Fan-out", Exact = true }).ClickAsync();
        var keyed = page.Locator($"#fanout-limits tr[data-limit='{DashboardServer.KeyedHandlerId}']");
        var shared = page.Locator($"#fanout-limits tr[data-limit='{DashboardServer.SharedLimitName}'][data-shared='true']");
        await Expect(keyed).ToBeVisibleAsync();
        await Expect(keyed.Locator("td[data-allows]")).ToHaveTextAsync("3 at once, 2 at once per key");
        await Expect(keyed.Locator("td[data-count='running']")).ToHaveTextAsync("3");
        await Expect(keyed.Locator("td[data-count='waiting']")).ToHaveTextAsync("4");
        await Expect(keyed.Locator("li[data-key]").First).ToHaveTextAsync("t2 1 running, 2 waiting");
        await Expect(shared.Locator("td[data-count='waiting']")).ToHaveTextAsync("6");
        await SaveScreenshotAsync(page, "dashboard-limits.png");

        await page.Locator($"#fanout-runs tr[data-run='{runId}'] a.fanout-run-link").ClickAsync();
        await Expect(page.Locator("h1")).ToContainTextAsync(runId);
        await ExpectCountAsync(page, DashboardServer.KeyedHandlerId, "in-flight", 7);
        await ExpectCountAsync(page, DashboardServer.KeyedHandlerId, "waiting", 4);
        await ExpectCountAsync(page, DashboardServer.SharedHandlerId, "waiting", 6);
        await Expect(page.Locator($"#fanout-handlers tr[data-handler='{DashboardServer.KeyedHandlerId}'] [data-segment='waiting for a slot']")).ToBeVisibleAsync();
        await SaveScreenshotAsync(page, "dashboard-run-waiting.png");

        await page.Locator($"#fanout-handlers tr[data-handler='{DashboardServer.SharedHandlerId}'] small[data-limit] a").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/hangfire/fanout#fanout-limit-shared-{DashboardServer.SharedLimitName}$"));
        await Expect(shared).ToBeVisibleAsync();

        await page.GotoAsync(new Uri(server.BaseAddress, LimitPagesTests.JobPath(waitingJob)).ToString());
        await Expect(page.Locator(".state-card-state-info .fanout-waiting")).ToHaveTextAsync($"Waiting for a slot of {DashboardServer.KeyedHandlerId}, key t2");
        await SaveScreenshotAsync(page, "dashboard-job-waiting.png");

        server.Gate.Open.SetResult();
        await page.GotoAsync(new Uri(server.BaseAddress, DashboardClient.RunPath(runId)).ToString());
        await ReloadUntilAsync(page, "the waiting jobs to run and succeed", async () =>
            await CountAsync(page, string.Empty, "waiting") == 0 && await CountAsync(page, string.Empty, "succeeded") == 14);
    }

    internal static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(ChromiumPath))
        {
            Assert.Fail($"The browser test drives Chromium at {ChromiumPath}, which is missing; install chromium: apt-get install -y chromium");
        }

        return await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
    }

    internal static async Task<IPage> NewPageAsync(IBrowser browser)
    {
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1000 } });
        page.SetDefaultTimeout(10_000);
        return page;
    }

    private static ILocator CountCell(IPage page, string handlerId, string count) =>
        page.Locator($"#fanout-handlers tr[data-handler='{handlerId}'] [data-count='{count}']");

    private static Task ExpectCountAsync(IPage page, string handlerId, string count, long expected) =>
        Expect(CountCell(page, handlerId, count)).ToHaveTextAsync(expected.ToString(System.Globalization.CultureInfo.CurrentCulture));

    private static async Task<long> CountAsync(IPage page, string handlerId, string count) =>
        long.Parse(await CountCell(page, handlerId, count).InnerTextAsync(), System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.CurrentCulture);

    /// <summary>Reloads the page until <paramref name="condition"/> holds, as a person waiting for the jobs would.</summary>
    private static async Task ReloadUntilAsync(IPage page, string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + RetryTimeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {RetryTimeout.TotalSeconds:F0} s for {what}.");
            }

            await Task.Delay(200);
            await page.ReloadAsync();
        }
    }

    private async Task SaveScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
