using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// Recognises a request a browser sent on behalf of another site. The dashboard checks antiforgery tokens only when the
/// application registers antiforgery, so the Fan-out commands also refuse what a browser labels as not same-origin.
/// </summary>
internal static class CrossSiteRequests
{
    private const string FetchSiteHeader = "Sec-Fetch-Site";

    public static bool IsCrossSite(HttpRequest request)
    {
        // Browsers label every request with Sec-Fetch-Site; a request without it comes from a client that is not a
        // browser (or a very old one), which no other site can drive, and still passes the dashboard's authorization.
        var site = request.Headers[FetchSiteHeader];
        return site.Count > 0 && !string.Equals(site.ToString(), "same-origin", StringComparison.OrdinalIgnoreCase);
    }
}
