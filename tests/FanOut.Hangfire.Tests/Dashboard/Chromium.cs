using Microsoft.Playwright;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Debian's Chromium driven by Playwright, as the browser tests use it: headless, with a page the size of a laptop screen.</summary>
internal static class Chromium
{
    private const string ExecutablePath = "/usr/bin/chromium";

    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"The browser test drives Chromium at {ExecutablePath}, which is missing; install chromium: apt-get install -y chromium");
        }

        return await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
    }

    public static async Task<IPage> NewPageAsync(IBrowser browser)
    {
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1000 } });
        page.SetDefaultTimeout(10_000);
        return page;
    }

    /// <summary>Saves a full-page screenshot under the test output's TestResults folder, and says where.</summary>
    public static async Task SaveScreenshotAsync(IPage page, string name, ITestOutputHelper output)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
