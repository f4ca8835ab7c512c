using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The rules every Fan-out command (a button's POST) shares, on top of what the dashboard's middleware has already
/// applied (its authorization filters and antiforgery check): POST only, refused on a read-only dashboard and for a
/// request a browser labels cross-site; the status says why.
/// </summary>
internal static class DashboardCommand
{
    /// <summary>The status to refuse the request with, or null when the command may run.</summary>
    public static int? Refusal(DashboardContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return StatusCodes.Status405MethodNotAllowed;
        }

        if (context.IsReadOnly || CrossSiteRequests.IsCrossSite(context.GetHttpContext().Request))
        {
            return StatusCodes.Status403Forbidden;
        }

        return null;
    }

    /// <summary>The status to refuse the request with, or null (and the runs API) when a command on runs may run.</summary>
    public static int? Refusal(DashboardContext context, out IFanOutRuns? runs)
    {
        runs = null;
        if (Refusal(context) is { } refused)
        {
            return refused;
        }

        runs = DashboardServices.Of(context).Runs;
        return runs is null ? StatusCodes.Status503ServiceUnavailable : null;
    }
}
