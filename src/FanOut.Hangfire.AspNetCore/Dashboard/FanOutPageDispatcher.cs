using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// Serves a Fan-out page: reads what the page shows asynchronously, then renders it in Hangfire's layout. Hangfire
/// renders a page synchronously, so the reads happen before, not inside, the page.
/// </summary>
internal sealed class FanOutPageDispatcher(Func<DashboardContext, Task<RazorPage>> loadPage) : IDashboardDispatcher
{
    public async Task Dispatch(DashboardContext context)
    {
        var page = await loadPage(context).ConfigureAwait(false);

        // Hangfire only hands a page its context (URLs, layout, antiforgery token) through its own page dispatcher,
        // reached through the public route API.
        var routes = new RouteCollection();
        routes.AddRazorPage("/", _ => page);
        await routes.FindDispatcher("/").Item1.Dispatch(context).ConfigureAwait(false);
    }
}
