using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The "Retry failed" button's POST: requeues every job of the run that failed with no retries left, once the checks
/// every command makes (<see cref="DashboardCommands"/>) let it.
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
        if (DashboardCommands.Refusal(context, out var runs) is { } refused)
        {
            return refused;
        }

        var runId = context.UriMatch.Groups[FanOutDashboard.RunIdGroup].Value;
        if (await runs!.GetAsync(runId, context.GetHttpContext().RequestAborted).ConfigureAwait(false) is null)
        {
            return StatusCodes.Status404NotFound;
        }

        // A click is not half undone by closing the tab: once started, the requeue runs to the end.
        await runs.RetryFailedAsync(runId, CancellationToken.None).ConfigureAwait(false);
        return StatusCodes.Status204NoContent;
    }
}
