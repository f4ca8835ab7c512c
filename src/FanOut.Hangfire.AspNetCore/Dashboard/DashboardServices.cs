using Hangfire.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The fan-out services of the application serving a dashboard request, resolved per request: the dashboard can be
/// mapped in an application that never called AddFanOut, so each may be missing.
/// </summary>
internal sealed record DashboardServices(IFanOutCatalog? Catalog, IFanOutRuns? Runs, CancellationToken RequestAborted, IFanOutControl? Control = null)
{
    public static DashboardServices Of(DashboardContext context)
    {
        var http = context.GetHttpContext();
        return new DashboardServices(
            http.RequestServices.GetService<IFanOutCatalog>(),
            http.RequestServices.GetService<IFanOutRuns>(),
            http.RequestAborted,
            http.RequestServices.GetService<IFanOutControl>());
    }

    /// <summary>Whether the application declares a cron fan-out or an event of this name.</summary>
    public bool Declares(string name) =>
        Catalog is { } catalog && (catalog.CronFanOuts.Any(c => c.Id == name) || catalog.Events.Any(e => e.Name == name));
}
