using System.Globalization;
using System.Text.Json;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The "Retry failed runs" button's POST on a fan-out's page: requeues the failed jobs of every run of the cron
/// fan-out or event (query <c>name</c>) started from <c>from</c> (inclusive) to <c>to</c> (exclusive), round-trip
/// UTC times, and answers with the counts as JSON. Same checks as "Retry failed" (<see cref="DashboardCommand"/>).
/// </summary>
internal sealed class RetryFailedRunsCommand : IDashboardDispatcher
{
    public const string Path = FanOutPage.Path + "/retry-failed-runs";

    public static string PathFor(string name) => $"{Path}?name={Uri.EscapeDataString(name)}";

    public async Task Dispatch(DashboardContext context)
    {
        if (DashboardCommand.Refusal(context, out var runs) is { } refused)
        {
            context.Response.StatusCode = refused;
            return;
        }

        var name = context.Request.GetQuery("name");
        if (string.IsNullOrEmpty(name) || !DashboardServices.Of(context).Declares(name))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (TimeOf(context.Request.GetQuery("from")) is not { } from || TimeOf(context.Request.GetQuery("to")) is not { } to || to < from)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // A click is not half undone by closing the tab: once started, the requeue runs to the end.
        var result = await runs!.RetryFailedRunsAsync(name, from, to, CancellationToken.None).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            runsExamined = result.RunsExamined,
            runsRetried = result.RunsRetried,
            jobsRequeued = result.JobsRequeued,
        })).ConfigureAwait(false);
    }

    private static DateTimeOffset? TimeOf(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;
}
