using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The "Retry failed" button's POST: requeues every job of the run that failed with no retries left. The dashboard's
/// middleware has already applied its authorization filters and antiforgery check before this runs.
/// </summary>
internal sealed class RetryFailedCommand : IDashboardDispatcher
{
    public async Task Dispatch(DashboardContext context)
    {
        var status = await RetryAsync(context).ConfigureAwait(false);
        context.Response.StatusCode = status;
    }

    private static async Task<int> RetryAsync(DashboardContext context)
    {
        if (DashboardCommand.Refusal(context) is { } refused)
        {
            return refused;
        }

        var services = DashboardServices.Of(context);
        if (services.Runs is not { } runs)
        {
            return StatusCodes.Status503ServiceUnavailable;
        }

        var runId = context.UriMatch.Groups[FanOutDashboard.RunIdGroup].Value;
        if (await runs.GetAsync(runId, services.RequestAborted).ConfigureAwait(false) is null)
        {
            return StatusCodes.Status404NotFound;
        }

        // A click is not half undone by closing the tab: once started, the requeue runs to the end.
        await runs.RetryFailedAsync(runId, CancellationToken.None).ConfigureAwait(false);
        return StatusCodes.Status204NoContent;
    }
}
