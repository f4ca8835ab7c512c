using System.Net;
using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Batches;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// Batch handlers in the dashboard (design.md invariant 20): the Fan-out page says which handlers take batches and how
/// big, a batch job is named by its handler, size and first item on Hangfire's pages, and a run's page counts items and
/// lists each failed item of a batch with its own error.
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class BatchPagesTests
{
    private const string Event = "batch/due";

    [Fact]
    public async Task Pages_OfABatchHandlersRun_CountItems_NameTheBatchJob_AndListEachFailedItemWithItsOwnError()
    {
        var calls = new BatchCalls { AlwaysFails = "bad-" };
        await using var server = await DashboardServer.StartAsync(services: services => services
            .AddSingleton(calls)
            .AddFanOut()
            .AddBatchHandler<ScriptedBatchHandler>("bulk", on: Event, h =>
            {
                h.MaxBatchSize = 3;
                h.RetryAttempts = 0;
            }));
        using var client = new DashboardClient(server);
        var runId = await server.Services.GetRequiredService<IFanOutClient>().SendManyAsync(Event, ["ok-1", "bad-1", "ok-2", "bad-2", "ok-3"]);
        await server.WaitForRunAsync(runId, run => run.Status == FanOutRunStatus.CompletedWithFailures, "to complete with its two bad items failed");
        var failedJob = (await server.Runs.GetFailedItemsAsync(runId))[0].JobId;

        var (_, list) = await client.GetAsync("/hangfire/fanout");
        var (status, page) = await client.GetAsync(DashboardClient.RunPath(runId));
        var (_, job) = await client.GetAsync(LimitPagesTests.JobPath(failedJob));

        list.Should().Contain("data-batch=\"3\"").And.Contain(">batches of 3</span>");
        status.Should().Be(HttpStatusCode.OK);
        RunPageHtml.Count(page, "bulk", "succeeded").Should().Be(3, "the run page counts a batch handler's items");
        RunPageHtml.Count(page, "bulk", "failed").Should().Be(2);
        page.Should().Contain("bad-1 was refused (attempt 1)").And.Contain("bad-2 was refused (attempt 1)");
        Regex.Matches(page, "bad-[12] was refused").Should().HaveCount(2, "each failed item of the batch is listed once, with its own error");
        WebUtility.HtmlDecode(job).Should().Contain("bulk · 3 items (ok-1 …)", "Hangfire's job page names the batch job by its handler, size and first item");
    }
}
