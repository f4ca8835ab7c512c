using System.Net;
using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>The Fan-out page's "Last firing" counts a manual trigger as well as the recurring job's firings, and says which it was.</summary>
[Collection(HangfireCollection.Name)]
public sealed partial class LastFiringTests
{
    [Fact]
    public async Task FanOutPage_LastFiring_IsTheManualTriggerWhenItCameLast_AndTheScheduleWhenThatDid()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);

        (await LastFiringAsync(client)).Should().Contain("<em>—</em>", "the fan-out never fired");

        await server.RunWithFailuresAsync();
        (await LastFiringAsync(client)).Should().Contain("data-firing=\"trigger\"").And.Contain("manual trigger");

        server.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:" + DashboardServer.CronId);
        await Wait.UntilAsync(async () => (await LastFiringAsync(client)).Contains("data-firing=\"schedule\""), TimeSpan.FromSeconds(30),
            () => "the recurring job's firing to count as the last one");
    }

    private static async Task<string> LastFiringAsync(DashboardClient client)
    {
        var (status, html) = await client.GetAsync("/hangfire/fanout");
        status.Should().Be(HttpStatusCode.OK);
        var cell = LastFiringCell().Match(html);
        cell.Success.Should().BeTrue("the cron fan-out's row has a last-firing cell");
        return cell.Groups[1].Value;
    }

    [GeneratedRegex($"<tr data-fanout=\"{DashboardServer.CronId}\">.*?<td[^>]*data-last-firing>(.*?)</td>", RegexOptions.Singleline)]
    private static partial Regex LastFiringCell();
}
