using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// Adds the Fan-out pages to Hangfire's dashboard, once per process: a navigation item, the list of fan-outs and runs,
/// a page per run, the run's "Retry failed" and "Cancel" commands, a fan-out's "Retry failed runs" command, the Pause
/// and Resume commands of cron fan-outs and handlers, how Hangfire's job page shows a job waiting for a slot of its
/// handler's limit or for its paused handler, and what a child job's handler logged, on that page. Hangfire's routes,
/// menu and state renderers are process-wide, so every dashboard
/// of the process shows them; each request reads the fan-out services of the application that serves it.
/// </summary>
internal static class FanOutDashboard
{
    public const string RunIdGroup = "runId";

    private const string RunPattern = FanOutPage.Path + "/runs/(?<" + RunIdGroup + ">[^/]+)";

    private static readonly Lock Gate = new();
    private static bool _registered;

    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            NavigationMenu.Items.Add(page => new MenuItem("Fan-out", page.Url.To(FanOutPage.Path))
            {
                Active = page.RequestPath.Equals(FanOutPage.Path, StringComparison.OrdinalIgnoreCase)
                    || page.RequestPath.StartsWith(FanOutPage.Path + "/", StringComparison.OrdinalIgnoreCase),
            });

            DashboardRoutes.Routes.Add(FanOutPage.Path, new FanOutPageDispatcher(LoadListPageAsync));
            DashboardRoutes.Routes.Add(RunPattern, new FanOutPageDispatcher(LoadRunPageAsync));
            DashboardRoutes.Routes.Add(RunPattern + "/retry-failed", new RetryFailedCommand());
            DashboardRoutes.Routes.Add(RunPattern + "/cancel", new CancelRunCommand());
            DashboardRoutes.Routes.Add(PauseCommand.Pattern, new PauseCommand());
            DashboardRoutes.Routes.Add(RetryFailedRunsCommand.Path, new RetryFailedRunsCommand());
            WaitingStateRenderer.Register();
            JobLogRenderer.Register();
            _registered = true;
        }
    }

    public static string RetryFailedPath(string runId) => $"{FanOutPage.Path}/runs/{Uri.EscapeDataString(runId)}/retry-failed";

    public static string CancelPath(string runId) => $"{FanOutPage.Path}/runs/{Uri.EscapeDataString(runId)}/cancel";

    private static async Task<RazorPage> LoadListPageAsync(DashboardContext context)
    {
        var name = context.Request.GetQuery("name");
        var model = await FanOutListModel.LoadAsync(
            DashboardServices.Of(context), context.Storage, string.IsNullOrEmpty(name) ? null : name).ConfigureAwait(false);
        return new FanOutListPage(model);
    }

    private static async Task<RazorPage> LoadRunPageAsync(DashboardContext context)
    {
        var runId = context.UriMatch.Groups[RunIdGroup].Value;
        var model = await FanOutRunModel.LoadAsync(DashboardServices.Of(context), runId).ConfigureAwait(false);
        if (model.Run is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }

        return new FanOutRunPage(model);
    }
}
