using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// A run's page: its status and timing, counts per handler (with the jobs waiting for their next retry, and those
/// waiting for a slot when a handler has a limit), failed items with their errors and the last lines their handler
/// logged, "Retry failed", and "Cancel" while the run has not completed.
/// </summary>
internal sealed class FanOutRunPage(FanOutRunModel model) : FanOutPage
{
    /// <summary>How many of a failed item's last lines its row shows; its job's page shows them all.</summary>
    public const int LastLinesShown = 5;

    protected override string Title => "Fan-out run " + model.RunId;

    protected override void Render(HtmlBuilder html)
    {
        html.Append($"<div class=\"row\"><div class=\"col-md-12\">");
        html.Append(Html.Breadcrumbs("Run " + model.RunId, new Dictionary<string, string> { ["Fan-out"] = ListUrl() }));
        html.Append($"<h1 id=\"page-title\" class=\"page-header\">Run <small class=\"word-break\">{model.RunId}</small></h1>");
        if (model.Services.Runs is null)
        {
            html.Append(Alert("warning", "Runs cannot be read: no IFanOutRuns service is registered."));
        }
        else if (model.Run is not { } run)
        {
            html.Append(Alert("info", "No run has this id, or its record expired."));
        }
        else
        {
            RenderSummary(html, run);
            RenderHandlers(html, run);
            RenderFailedItems(html, run);
        }

        html.Append($"</div></div>");
    }

    private void RenderSummary(HtmlBuilder html, FanOutRun run)
    {
        var what = run.Kind == FanOutRunKind.Cron ? "Cron fan-out" : "Event (send)";
        RenderCancel(html, run);
        html.Append($"<dl class=\"dl-horizontal\" id=\"fanout-run-summary\">");
        html.Append($"<dt>{what}</dt><dd><a href=\"{ListUrl(run.Name)}\">{run.Name}</a></dd>");
        html.Append($"<dt>Event</dt><dd>{run.EventName}</dd>");
        html.Append($"<dt>Status</dt><dd>{RunStatusLabel.Of(run)}</dd>");
        html.Append($"<dt>Dispatch started</dt><dd>{Time(run.DispatchStartedAt)}</dd>");
        html.Append($"<dt>Dispatch finished</dt><dd>{Time(run.DispatchFinishedAt)}</dd>");
        html.Append($"<dt>Dispatch duration</dt><dd data-duration>{Html.ToHumanDuration(run.DispatchDuration, displaySign: false) ?? "—"}</dd>");
        html.Append($"<dt>Items dispatched</dt><dd data-count=\"items\">{run.DispatchedItems:N0}</dd>");
        html.Append($"<dt>Completed</dt><dd>{Time(run.CompletedAt)}</dd>");
        html.Append($"<dt>Completions</dt><dd data-count=\"completions\">{run.Completions:N0}</dd>");
        if (model.ShowsWaiting)
        {
            html.Append($"<dt>Waiting for a slot</dt><dd data-count=\"waiting\">{RunProgressBar.WaitingOf(run):N0}</dd>");
        }

        html.Append($"<dt>Waiting for a retry</dt><dd data-count=\"retrying\">{run.Retrying:N0}</dd>");
        if (run.NextRetryAt is { } next)
        {
            html.Append($"<dt>Next retry</dt><dd data-next-retry=\"{next.ToUnixTimeMilliseconds()}\">{Time(next)}</dd>");
        }

        html.Append($"<dt>Progress</dt><dd>{RunProgressBar.Of(run)}</dd>");
        html.Append($"</dl>");
    }

    // A run that has not completed can be cancelled; the browser asks first, since it cannot be undone.
    private void RenderCancel(HtmlBuilder html, FanOutRun run)
    {
        if (IsReadOnly || run.Status is FanOutRunStatus.Completed or FanOutRunStatus.CompletedWithFailures or FanOutRunStatus.Skipped or FanOutRunStatus.Cancelled)
        {
            return;
        }

        html.Append($"<div class=\"btn-toolbar pull-right\"><button class=\"btn btn-sm btn-danger\" id=\"fanout-cancel-run\" ");
        html.Append($"data-ajax=\"{Url.To(FanOutDashboard.CancelPath(model.RunId))}\" data-loading-text=\"Cancelling…\" ");
        html.Append($"data-confirm=\"Cancel this run? Its jobs that have not started are deleted and its running calls are told to stop.\">");
        html.Append($"<span class=\"glyphicon glyphicon-remove\"></span> Cancel</button></div>");
    }

    private void RenderHandlers(HtmlBuilder html, FanOutRun run)
    {
        var waiting = model.ShowsWaiting;
        html.Append($"<h3>Handlers</h3><div class=\"table-responsive\"><table class=\"table\" id=\"fanout-handlers\"><thead><tr>");
        html.Append($"<th>Handler</th><th>Queue</th><th class=\"min-width-200p\">Progress</th>");
        html.Append($"<th class=\"align-right\">Dispatched</th><th class=\"align-right\">Succeeded</th><th class=\"align-right\">Failed</th>");
        html.Append($"<th class=\"align-right\">Deleted</th><th class=\"align-right\">In flight</th>");
        html.Append($"<th class=\"align-right\" title=\"Of those in flight, the jobs that failed an attempt and wait for their next one\">Retrying</th>");
        if (waiting)
        {
            html.Append($"<th class=\"align-right\" title=\"Of those in flight, the jobs waiting for a slot of their limit or for a throttled start\">Waiting</th>");
        }

        html.Append($"</tr></thead><tbody>");
        foreach (var handler in run.Handlers)
        {
            var queue = model.FindHandler(handler.HandlerId)?.Queue;
            html.Append($"<tr data-handler=\"{handler.HandlerId}\"><td class=\"word-break\">{handler.HandlerId}{LimitNote(handler.HandlerId)}</td>");
            html.Append($"<td>{(queue is null ? Html.Raw("<em>unknown</em>") : Html.QueueLabel(queue))}</td>");
            html.Append($"<td>{RunProgressBar.Of(handler)}</td>");
            Counts(html, handler.Dispatched, handler.Succeeded, handler.Failed, handler.Deleted, handler.InFlight, handler.Retrying, waiting ? handler.Waiting : null);
            html.Append($"</tr>");
        }

        html.Append($"</tbody><tfoot><tr data-handler=\"\"><th colspan=\"3\">All handlers</th>");
        Counts(html, run.DispatchedJobs, run.Succeeded, run.Failed, run.Deleted, run.InFlight, run.Retrying, waiting ? RunProgressBar.WaitingOf(run) : null);
        html.Append($"</tr></tfoot></table></div>");
    }

    private NonEscapedString LimitNote(string handlerId) =>
        model.Limits.Of(handlerId) is { } limit
            ? new HtmlBuilder().Append($"<br><small class=\"text-muted\" data-limit=\"{limit.Name}\">limit <a href=\"{LimitUrl(limit)}\">{limit.Name}</a>: {limit.Description}</small>").ToHtml()
            : new NonEscapedString(string.Empty);

    private static void Counts(HtmlBuilder html, long dispatched, long succeeded, long failed, long deleted, long inFlight, long retrying, long? waiting)
    {
        html.Append($"<td class=\"align-right\" data-count=\"dispatched\">{dispatched:N0}</td>")
            .Append($"<td class=\"align-right\" data-count=\"succeeded\">{succeeded:N0}</td>")
            .Append($"<td class=\"align-right\" data-count=\"failed\">{failed:N0}</td>")
            .Append($"<td class=\"align-right\" data-count=\"deleted\">{deleted:N0}</td>")
            .Append($"<td class=\"align-right\" data-count=\"in-flight\">{inFlight:N0}</td>")
            .Append($"<td class=\"align-right\" data-count=\"retrying\">{retrying:N0}</td>");
        if (waiting is { } count)
        {
            html.Append($"<td class=\"align-right\" data-count=\"waiting\">{count:N0}</td>");
        }
    }

    private void RenderFailedItems(HtmlBuilder html, FanOutRun run)
    {
        html.Append($"<h3>");
        if (run.Failed > 0 && !IsReadOnly)
        {
            html.Append($"<span class=\"pull-right\"><button class=\"btn btn-sm btn-primary\" id=\"fanout-retry-failed\" ");
            html.Append($"data-ajax=\"{Url.To(FanOutDashboard.RetryFailedPath(model.RunId))}\" data-loading-text=\"Requeueing…\">");
            html.Append($"<span class=\"glyphicon glyphicon-repeat\"></span> Retry failed</button></span>");
        }

        html.Append($"Failed items</h3>");
        if (run.Retrying > 0)
        {
            RenderRetrying(html, run);
        }

        if (run.Failed == 0)
        {
            if (run.Retrying == 0)
            {
                html.Append(Alert("success", "No job of this run failed with no retries left."));
            }

            return;
        }

        if (model.FailedItems.Count < run.Failed)
        {
            html.Append($"<p class=\"text-muted\">The first {model.FailedItems.Count:N0} of {run.Failed:N0}.</p>");
        }

        html.Append($"<div class=\"table-responsive\"><table class=\"table\" id=\"fanout-failed-items\"><thead><tr>");
        html.Append($"<th>Handler</th><th>Item key</th><th class=\"min-width\">Job</th><th>Error</th><th class=\"align-right min-width\">Failed</th>");
        html.Append($"</tr></thead><tbody>");
        foreach (var item in model.FailedItems)
        {
            html.Append($"<tr data-job=\"{item.JobId}\"><td class=\"word-break\">{item.HandlerId}</td><td class=\"word-break\" data-item-key>{item.ItemKey}</td>");
            html.Append($"<td class=\"min-width\">{Html.JobIdLink(item.JobId)}</td>");
            html.Append($"<td class=\"word-break\"><strong>{item.ExceptionType}</strong> {item.ExceptionMessage}</td>");
            html.Append($"<td class=\"align-right min-width\">{Time(item.FailedAt)}</td></tr>");
            if (item.Log is { Entries.Count: > 0 } log)
            {
                RenderLastLines(html, item, log);
            }
        }

        html.Append($"</tbody></table></div>");
    }

    // Not green while jobs fail and wait for their next attempt: a handler that always throws would look healthy for hours.
    private void RenderRetrying(HtmlBuilder html, FanOutRun run)
    {
        var none = run.Failed == 0 ? "No job of this run has run out of retries yet, but " : string.Empty;
        var jobs = run.Retrying == 1 ? "job failed an attempt and waits" : "jobs failed an attempt and wait";
        html.Append($"<div class=\"alert alert-warning\" id=\"fanout-retrying\">{none}<strong data-count=\"retrying\">{run.Retrying:N0}</strong> {jobs} for their next one");
        if (run.NextRetryAt is { } next)
        {
            html.Append($"; the next is due {Time(next)}");
        }

        html.Append($". <a href=\"{Url.To("/jobs/scheduled")}\">See them on the Scheduled page</a>.</div>");
    }

    private void RenderLastLines(HtmlBuilder html, FanOutFailedItem item, FanOutJobLog log)
    {
        var shown = log.Entries.Skip(Math.Max(0, log.Entries.Count - LastLinesShown)).ToList();
        html.Append($"<tr class=\"fanout-item-log\" data-log-for=\"{item.JobId}\"><td></td><td colspan=\"4\">");
        html.Append($"<small class=\"text-muted\">Last {shown.Count:N0} of {log.Entries.Count + log.DroppedEntries:N0} lines logged by attempt {log.Attempt:N0} (");
        html.Append($"<a href=\"{Url.JobDetails(item.JobId)}#{JobLogRenderer.SectionId}\">all on the job's page</a>)</small><pre class=\"fanout-log\" style=\"white-space: pre-wrap;\">");
        foreach (var entry in shown)
        {
            html.Append($"{JobLogRenderer.LineOf(entry)}\n");
        }

        html.Append($"</pre></td></tr>");
    }
}
