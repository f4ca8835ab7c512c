using System.Globalization;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>A Bootstrap progress bar of a run's or a handler's jobs: succeeded, failed, deleted and in flight.</summary>
internal static class RunProgressBar
{
    public static NonEscapedString Of(FanOutRun run) =>
        Render(run.DispatchedJobs, run.Succeeded, run.Failed, run.Deleted, run.InFlight);

    public static NonEscapedString Of(FanOutHandlerProgress handler) =>
        Render(handler.Dispatched, handler.Succeeded, handler.Failed, handler.Deleted, handler.InFlight);

    private static NonEscapedString Render(long dispatched, long succeeded, long failed, long deleted, long inFlight)
    {
        // Jobs can end in the moment between two counts being read; the bar never overflows.
        var total = Math.Max(dispatched, succeeded + failed + deleted + inFlight);
        var html = new HtmlBuilder();
        html.Append($"<div class=\"progress\" style=\"margin-bottom: 0\" title=\"{succeeded:N0} succeeded, {failed:N0} failed, {deleted:N0} deleted, {inFlight:N0} in flight of {total:N0}\">");
        Segment(html, "progress-bar-success", succeeded, total, "succeeded");
        Segment(html, "progress-bar-danger", failed, total, "failed");
        Segment(html, "progress-bar-warning", deleted, total, "deleted");
        Segment(html, "progress-bar-info progress-bar-striped active", inFlight, total, "in flight");
        html.Append($"</div>");
        return html.ToHtml();
    }

    private static void Segment(HtmlBuilder html, string classes, long count, long total, string what)
    {
        if (count <= 0 || total <= 0)
        {
            return;
        }

        var width = (100.0 * count / total).ToString("0.##", CultureInfo.InvariantCulture);
        html.Append($"<div class=\"progress-bar {classes}\" style=\"width: {width}%\"><span class=\"sr-only\">{count:N0} {what}</span></div>");
    }
}
