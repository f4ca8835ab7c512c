using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// A button's POST on a run's page ("Retry failed", "Cancel"). The dashboard's middleware has already applied its
/// authorization filters and antiforgery check before this runs; a command also refuses other methods than POST, a
/// read-only dashboard, a request a browser labels as from another site, and a run that does not exist.
/// </summary>
internal abstract class RunCommand : IDashboardDispatcher
{
    public async Task Dispatch(DashboardContext context)
    {
        var status = await RunAsync(context).ConfigureAwait(false);
        context.Response.StatusCode = status;
    }

    /// <summary>Does the command on a run that exists; a click is not half undone by closing the tab, so it runs to the end.</summary>
    protected abstract Task ExecuteAsync(IFanOutRuns runs, string runId);

    private async Task<int> RunAsync(DashboardContext context)
    {
        if (DashboardCommand.Refusal(context, out var runs) is { } refused)
        {
            return refused;
        }

        var services = DashboardServices.Of(context);
        var runId = context.UriMatch.Groups[FanOutDashboard.RunIdGroup].Value;
        if (await runs!.GetAsync(runId, services.RequestAborted).ConfigureAwait(false) is null)
        {
            return StatusCodes.Status404NotFound;
        }

        await ExecuteAsync(runs, runId).ConfigureAwait(false);
        return StatusCodes.Status204NoContent;
    }
}
