using System.Globalization;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// A Bootstrap progress bar of a run's or a handler's jobs: succeeded, failed, deleted, in flight, and the parts of those
/// in flight that wait for a slot of a limit (or a throttled start), for their next retry, and because their handler is
/// paused, each as its own segment.
/// </summary>
internal static class RunProgressBar
{
    public static NonEscapedString Of(FanOutRun run) =>
        Render(run.DispatchedJobs, run.Succeeded, run.Failed, run.Deleted, run.InFlight, WaitingOf(run), run.Retrying, run.Handlers.Sum(h => h.Paused));

    public static NonEscapedString Of(FanOutHandlerProgress handler) =>
        Render(handler.Dispatched, handler.Succeeded, handler.Failed, handler.Deleted, handler.InFlight, handler.Waiting, handler.Retrying, handler.Paused);

    /// <summary>How many jobs of the run wait for a slot or a throttled start, over all its handlers.</summary>
    public static long WaitingOf(FanOutRun run) => run.Handlers.Sum(h => h.Waiting);

    private static NonEscapedString Render(long dispatched, long succeeded, long failed, long deleted, long inFlight, long waiting, long retrying, long paused)
    {
        // Jobs can end in the moment between two counts being read; the bar never overflows.
        var total = Math.Max(dispatched, succeeded + failed + deleted + inFlight);
        waiting = Math.Clamp(waiting, 0, inFlight);
        retrying = Math.Clamp(retrying, 0, inFlight - waiting);
        paused = Math.Clamp(paused, 0, inFlight - waiting - retrying);
        var html = new HtmlBuilder();
        html.Append($"<div class=\"progress\" style=\"margin-bottom: 0\" title=\"{succeeded:N0} succeeded, {failed:N0} failed, {deleted:N0} deleted, {inFlight:N0} in flight");
        string[] parts = [.. new[] { (Count: waiting, What: "waiting for a slot"), (Count: retrying, What: "waiting for a retry"), (Count: paused, What: "paused") }
            .Where(p => p.Count > 0)
            .Select(p => $"{p.Count:N0} {p.What}")];
        if (parts.Length > 0)
        {
            html.Append($" ({string.Join(", ", parts)})");
        }

        html.Append($" of {total:N0}\">");
        Segment(html, "progress-bar-success", succeeded, total, "succeeded");
        Segment(html, "progress-bar-danger", failed, total, "failed");
        Segment(html, "progress-bar-warning", deleted, total, "deleted");
        Segment(html, "progress-bar-info progress-bar-striped active", inFlight - waiting - retrying - paused, total, "in flight");

        // A job waiting for its retry failed an attempt and is on no worker: the colour of a failure, faded and still.
        Segment(html, "progress-bar-danger progress-bar-striped", retrying, total, "waiting for a retry", " opacity: 0.5;");

        // A waiting job is in flight but on no worker: the colour of the in-flight segment, faded and still.
        Segment(html, "progress-bar-info progress-bar-striped", waiting, total, "waiting for a slot", " opacity: 0.5;");

        // A paused job waits for a person, not for the system: grey, and still.
        Segment(html, string.Empty, paused, total, "paused", " background-color: #999;");
        html.Append($"</div>");
        return html.ToHtml();
    }

    private static void Segment(HtmlBuilder html, string classes, long count, long total, string what, string style = "")
    {
        if (count <= 0 || total <= 0)
        {
            return;
        }

        var width = (100.0 * count / total).ToString("0.##", CultureInfo.InvariantCulture);
        html.Append($"<div class=\"progress-bar {classes}\" style=\"width: {width}%;{style}\" data-segment=\"{what}\"><span class=\"sr-only\">{count:N0} {what}</span></div>");
    }
}
