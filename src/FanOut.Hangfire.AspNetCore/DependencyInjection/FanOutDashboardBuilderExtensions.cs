using FanOut.Hangfire;
using FanOut.Hangfire.Dashboard;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Fan-out pages to the Hangfire dashboard of an ASP.NET Core app.</summary>
public static class FanOutDashboardBuilderExtensions
{
    /// <summary>
    /// Adds a <b>Fan-out</b> item to the Hangfire dashboard's navigation, with the pages behind it: every cron fan-out,
    /// event and handler, the limits the handlers draw on (what each allows, the calls holding its slots, the jobs waiting
    /// and its busiest keys), what is paused and since when with Pause and Resume buttons, the recent runs with their
    /// progress, each run's counts (the jobs waiting for their next retry, for a slot, and the paused ones among them) and
    /// failed items with the last lines their handler logged, its Retry failed and Cancel buttons; and makes Hangfire's own
    /// job page show a job waiting for a slot or for its paused handler readably, and what a child job's handler logged
    /// during each attempt. <c>app.MapHangfireDashboard()</c> then serves them, behind the dashboard's own authorization filters.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFanOut</c>.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder AddDashboard(this IFanOutBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Hangfire's dashboard routes and menu are process-wide; each request reads the fan-out services of the app serving it.
        FanOutDashboard.EnsureRegistered();
        return builder;
    }
}
