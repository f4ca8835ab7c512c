using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The checks every Fan-out command makes before it changes anything, in one place: the dashboard's middleware has
/// already applied its authorization filters and antiforgery check; a command also takes only a POST, refuses a
/// read-only dashboard and a request a browser labels cross-site, and needs the runs API.
/// </summary>
internal static class DashboardCommands
{
    /// <summary>The status to refuse the request with, or null (and the runs API) when the command may run.</summary>
    public static int? Refusal(DashboardContext context, out IFanOutRuns? runs)
    {
        runs = null;
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return StatusCodes.Status405MethodNotAllowed;
        }

        if (context.IsReadOnly || CrossSiteRequests.IsCrossSite(context.GetHttpContext().Request))
        {
            return StatusCodes.Status403Forbidden;
        }

        runs = DashboardServices.Of(context).Runs;
        return runs is null ? StatusCodes.Status503ServiceUnavailable : null;
    }
}
