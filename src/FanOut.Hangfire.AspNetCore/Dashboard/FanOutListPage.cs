using System.Globalization;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The Fan-out page: every cron fan-out with its schedule, every event with its handlers, the limits those draw on
/// (when some handler has one), and recent runs.
/// </summary>
internal sealed class FanOutListPage(FanOutListModel model) : FanOutPage
{
    protected override string Title => "Fan-out";

    protected override void Render(HtmlBuilder html)
    {
        html.Append($"<div class=\"row\"><div class=\"col-md-12\"><h1 id=\"page-title\" class=\"page-header\">Fan-out</h1>");
        if (model.Services.Catalog is null)
        {
            html.Append(Alert("warning", "FanOut.Hangfire is not registered in the services of the application serving this dashboard (AddFanOut)."));
        }
        else
        {
            RenderWarnings(html);
            RenderCrons(html);
            RenderEvents(html);
            RenderLimits(html);
            RenderRuns(html);
        }

        html.Append($"</div></div>");
    }

    private void RenderWarnings(HtmlBuilder html)
    {
        var warnings = model.Services.Catalog!.Warnings;
        if (warnings.Count == 0)
        {
            return;
        }

        html.Append($"<div class=\"alert alert-warning\" id=\"fanout-warnings\"><strong>Configuration warnings</strong><ul>");
        foreach (var warning in warnings)
        {
            html.Append($"<li>{warning.Message} <small>(since {Time(warning.Since)})</small></li>");
        }

        html.Append($"</ul></div>");
    }

    private void RenderCrons(HtmlBuilder html)
    {
        html.Append($"<h3>Cron fan-outs</h3>");
        if (model.Crons.Count == 0)
        {
            html.Append(Alert("info", "No cron fan-out is declared."));
            return;
        }

        html.Append($"<div class=\"table-responsive\"><table class=\"table\" id=\"fanout-crons\"><thead><tr>");
        html.Append($"<th>Id</th><th class=\"min-width\">Cron</th><th>Time zone</th><th>Sends</th><th>Queue</th><th>On completion</th>");
        html.Append($"<th class=\"align-right min-width\">Next firing</th><th class=\"align-right min-width\">Last firing</th>{PausedHeader()}</tr></thead><tbody>");
        foreach (var row in model.Crons)
        {
            var (cron, recurringJob) = (row.Cron, row.RecurringJob);
            html.Append($"<tr data-fanout=\"{cron.Id}\"><td class=\"word-break\"><a href=\"{ListUrl(cron.Id)}\">{cron.Id}</a></td>");
            html.Append($"<td class=\"min-width min-width-125p\"><code class=\"cron-badge\">{cron.Cron}</code></td>");
            html.Append($"<td>{cron.TimeZone}</td><td class=\"word-break\">{cron.EventName}</td><td>{cron.Queue}</td>");
            html.Append($"<td>{CompletionHandler(cron.CompletionHandlerType)}</td>");
            if (recurringJob is null)
            {
                var why = cron.Enabled ? "no recurring job" : "disabled";
                html.Append($"<td class=\"align-right min-width\" colspan=\"2\"><span class=\"label label-default\">{why}</span></td>");
            }
            else
            {
                html.Append($"<td class=\"align-right min-width\">{Time(recurringJob.NextExecution)}</td>");
                html.Append($"<td class=\"align-right min-width\" data-last-firing>{LastFiring(row)}</td>");
            }

            RenderPause(html, FanOutPauseTarget.CronFanOut, cron.Id);
            html.Append($"</tr>");
        }

        html.Append($"</tbody></table></div>");
    }

    private NonEscapedString LastFiring(FanOutListModel.CronRow row)
    {
        var (at, manual) = row.LastFiring;
        if (at is null)
        {
            return Time(at);
        }

        return new HtmlBuilder()
            .Append($"{Time(at)} <span class=\"label label-default\" data-firing=\"{(manual ? "trigger" : "schedule")}\">")
            .Append($"{(manual ? "manual trigger" : "schedule")}</span>")
            .ToHtml();
    }

    private NonEscapedString BatchLabel(FanOutHandlerInfo handler) =>
        handler.MaxBatchSize is { } size
            ? Html.Raw(string.Create(CultureInfo.InvariantCulture, $" <span class=\"label label-info\" data-batch=\"{size}\" title=\"A batch handler: up to {size} items a call\">batches of {size}</span>"))
            : Html.Raw(string.Empty);

    private void RenderEvents(HtmlBuilder html)
    {
        html.Append($"<h3>Events and handlers</h3>");
        html.Append($"<div class=\"table-responsive\"><table class=\"table\" id=\"fanout-events\"><thead><tr>");
        html.Append($"<th>Event</th><th>On completion of a send</th><th>Handler</th><th>Queue</th><th class=\"align-right min-width\">Retry attempts</th>");
        if (model.Limits.Any)
        {
            html.Append($"<th>Limit</th>");
        }

        html.Append($"{PausedHeader()}</tr></thead><tbody>");
        foreach (var @event in model.Events)
        {
            var first = true;
            foreach (var handler in @event.Handlers)
            {
                html.Append($"<tr data-event=\"{@event.Name}\" data-handler=\"{handler.Id}\">");
                if (first)
                {
                    html.Append($"<td class=\"word-break\" rowspan=\"{@event.Handlers.Count}\"><a href=\"{ListUrl(@event.Name)}\">{@event.Name}</a></td>");
                    html.Append($"<td rowspan=\"{@event.Handlers.Count}\">{CompletionHandler(@event.CompletionHandlerType)}</td>");
                    first = false;
                }

                html.Append($"<td class=\"word-break\">{handler.Id}{BatchLabel(handler)}</td><td>{handler.Queue}</td>");
                html.Append($"<td class=\"align-right min-width\">{handler.RetryAttempts}</td>");
                if (model.Limits.Any)
                {
                    html.Append($"<td class=\"word-break\">{LimitLink(model.Limits.Of(handler.Id))}</td>");
                }

                RenderPause(html, FanOutPauseTarget.Handler, handler.Id);
                html.Append($"</tr>");
            }
        }

        html.Append($"</tbody></table></div>");
    }

    private NonEscapedString PausedHeader() =>
        Html.Raw(model.Pauses is null ? string.Empty : "<th class=\"min-width\">Paused</th>");

    /// <summary>
    /// Whether it is paused, since when and by what, with the button that changes it: Pause, or Resume for a pause made
    /// here or through the API; a pause of configuration offers none, since only configuration lifts it.
    /// </summary>
    private void RenderPause(HtmlBuilder html, FanOutPauseTarget target, string id)
    {
        if (model.Pauses is null)
        {
            return;
        }

        var pause = model.PauseOf(target, id);
        html.Append($"<td class=\"min-width\" data-paused=\"{(pause is null ? "false" : "true")}\">");
        if (pause?.PausedAt is { } since)
        {
            html.Append($"<span class=\"label label-warning\">paused</span> <small>since {Time(since)}</small> ");
        }

        if (pause?.ByConfiguration == true)
        {
            html.Append($"<span class=\"label label-warning\" data-by-configuration>paused by configuration</span> ");
        }

        if (!IsReadOnly && pause?.ByConfiguration != true)
        {
            var resume = pause is not null;
            html.Append($"<button class=\"btn btn-xs btn-default fanout-{(resume ? "resume" : "pause")}\" ");
            html.Append($"data-ajax=\"{Url.To(PauseCommand.PathOf(target, id, pause: !resume))}\" data-loading-text=\"{(resume ? "Resuming…" : "Pausing…")}\">");
            html.Append($"<span class=\"glyphicon glyphicon-{(resume ? "play" : "pause")}\"></span> {(resume ? "Resume" : "Pause")}</button>");
        }

        html.Append($"</td>");
    }

    private void RenderLimits(HtmlBuilder html)
    {
        if (!model.Limits.Any)
        {
            return;
        }

        html.Append($"<h3>Limits</h3><div class=\"table-responsive\"><table class=\"table\" id=\"fanout-limits\"><thead><tr>");
        html.Append($"<th>Limit</th><th>Handlers</th><th>Allows</th><th class=\"align-right min-width\">Running</th>");
        html.Append($"<th class=\"align-right min-width\">Waiting</th><th>Busiest keys</th></tr></thead><tbody>");
        foreach (var limit in model.Limits.All)
        {
            html.Append($"<tr id=\"{HandlerLimits.AnchorOf(limit)}\" data-limit=\"{limit.Name}\" data-shared=\"{(limit.Shared ? "true" : "false")}\">");
            html.Append($"<td class=\"word-break\"><strong>{limit.Name}</strong> ");
            html.Append(limit.Shared
                ? Html.Raw("<span class=\"label label-info\">shared</span>")
                : Html.Raw("<span class=\"label label-default\">handler's own</span>"));
            html.Append($"</td><td class=\"word-break\" data-handlers>{string.Join(", ", limit.HandlerIds)}</td>");
            html.Append($"<td data-allows>{limit.Description}</td>");
            html.Append($"<td class=\"align-right min-width\" data-count=\"running\">{limit.Running:N0}</td>");
            html.Append($"<td class=\"align-right min-width\" data-count=\"waiting\">{limit.Waiting:N0}</td>");
            html.Append($"<td>{BusiestKeys(limit)}</td></tr>");
        }

        html.Append($"</tbody></table></div>");
        html.Append($"<p class=\"text-muted\">Running counts the calls holding a slot: enqueued, running, or holding one for a throttled start. ");
        html.Append($"Waiting counts the jobs waiting for a slot, in storage and on no worker.</p>");
    }

    private NonEscapedString BusiestKeys(FanOutLimitStatus limit)
    {
        if (limit.ConcurrencyLimitPerKey is null)
        {
            return Html.Raw("<em>—</em>");
        }

        if (limit.BusiestKeys.Count == 0)
        {
            return Html.Raw(limit.Waiting == 0 ? "<em>no key waits</em>" : "<em>—</em>");
        }

        var html = new HtmlBuilder().Append($"<ul class=\"list-unstyled\" style=\"margin-bottom: 0\">");
        foreach (var key in limit.BusiestKeys)
        {
            html.Append($"<li data-key=\"{key.Key}\"><code class=\"word-break\">{key.Key}</code> ");
            html.Append($"<span data-count=\"running\">{key.Running:N0}</span> running, <span data-count=\"waiting\">{key.Waiting:N0}</span> waiting</li>");
        }

        return html.Append($"</ul>").ToHtml();
    }

    private NonEscapedString LimitLink(FanOutLimitStatus? limit) =>
        limit is null
            ? Html.Raw("<em>—</em>")
            : new HtmlBuilder().Append($"<a href=\"#{Uri.EscapeDataString(HandlerLimits.AnchorOf(limit))}\">{limit.Name}</a>").ToHtml();

    private void RenderRuns(HtmlBuilder html)
    {
        html.Append($"<h3>{(model.Name is null ? "Recent runs" : "Runs of " + model.Name)}</h3>");
        if (model.Name is not null)
        {
            html.Append($"<p><a href=\"{ListUrl()}\">All fan-outs and events</a></p>");
        }

        if (model.Services.Runs is null)
        {
            html.Append(Alert("warning", "Runs cannot be read: no IFanOutRuns service is registered."));
            return;
        }

        if (model.Name is not null && !IsReadOnly && model.Services.Declares(model.Name))
        {
            RenderRetryFailedRuns(html, model.Name);
        }

        if (model.RecentRuns.Count == 0)
        {
            html.Append(Alert("info", "No runs yet."));
            return;
        }

        html.Append($"<div class=\"table-responsive\"><table class=\"table\" id=\"fanout-runs\"><thead><tr>");
        html.Append($"<th>Run</th><th>Fan-out or event</th><th>Status</th><th class=\"min-width-200p\">Progress</th>");
        html.Append($"<th class=\"align-right min-width\">Jobs</th><th class=\"align-right min-width\">Failed</th><th class=\"align-right min-width\">Started</th></tr></thead><tbody>");
        foreach (var run in model.RecentRuns)
        {
            html.Append($"<tr data-run=\"{run.RunId}\"><td><a class=\"fanout-run-link\" href=\"{RunUrl(run.RunId)}\">{ShortId(run.RunId)}</a></td>");
            html.Append($"<td class=\"word-break\">{run.Name}{(run.Kind == FanOutRunKind.Send ? " (send)" : string.Empty)}</td>");
            html.Append($"<td>{RunStatusLabel.Of(run)}</td><td>{RunProgressBar.Of(run)}</td>");
            html.Append($"<td class=\"align-right min-width\">{run.DispatchedJobs:N0}</td><td class=\"align-right min-width\">{run.Failed:N0}</td>");
            html.Append($"<td class=\"align-right min-width\">{Time(run.DispatchStartedAt ?? run.DispatchFinishedAt)}</td></tr>");
        }

        html.Append($"</tbody></table></div>");
    }

    // The range is read as UTC, in the browser's datetime inputs; the command answers with the counts, shown in place.
    private void RenderRetryFailedRuns(HtmlBuilder html, string name)
    {
        var now = DateTime.UtcNow;
        var (from, to) = (now.AddDays(-1), now.AddMinutes(1));
        html.Append($"<form class=\"form-inline well well-sm\" id=\"fanout-retry-failed-runs\" onsubmit=\"return false\">");
        html.Append($"Retry the failed items of every run of <strong>{name}</strong> started from ");
        html.Append($"<input type=\"datetime-local\" step=\"1\" class=\"form-control input-sm\" id=\"fanout-retry-from\" value=\"{from:yyyy-MM-ddTHH:mm:ss}\"> to ");
        html.Append($"<input type=\"datetime-local\" step=\"1\" class=\"form-control input-sm\" id=\"fanout-retry-to\" value=\"{to:yyyy-MM-ddTHH:mm:ss}\"> UTC ");
        html.Append($"<button type=\"button\" class=\"btn btn-sm btn-primary\" id=\"fanout-retry-failed-runs-button\" data-url=\"{Url.To(RetryFailedRunsCommand.PathFor(name))}\">");
        html.Append($"<span class=\"glyphicon glyphicon-repeat\"></span> Retry failed runs</button> ");
        html.Append($"<span id=\"fanout-retry-failed-runs-result\" role=\"status\"></span></form>");
        html.Append(Html.Raw(RetryFailedRunsScript));
    }

    // Hangfire's own script sends the antiforgery token with every jQuery request ($.ajaxSetup), as for data-ajax buttons.
    private const string RetryFailedRunsScript = """
        <script>
        window.addEventListener('load', function () {
            $('#fanout-retry-failed-runs-button').on('click', function () {
                var button = $(this), result = $('#fanout-retry-failed-runs-result');
                var url = button.data('url') + '&from=' + encodeURIComponent($('#fanout-retry-from').val() + 'Z')
                    + '&to=' + encodeURIComponent($('#fanout-retry-to').val() + 'Z');
                button.prop('disabled', true);
                result.text('Requeueing…');
                $.post(url).done(function (counts) {
                    result.text('Requeued ' + counts.jobsRequeued + ' failed jobs of ' + counts.runsRetried + ' runs ('
                        + counts.runsExamined + ' runs started in the range).');
                }).fail(function (xhr) {
                    result.text('Not retried: the dashboard answered ' + xhr.status + '.');
                }).always(function () {
                    button.prop('disabled', false);
                });
            });
        });
        </script>
        """;

    private NonEscapedString CompletionHandler(Type? type) =>
        type is not null
            ? new HtmlBuilder().Append($"<code>{type.Name}</code>").ToHtml()
            : Html.Raw("<em>—</em>");

    private static string ShortId(string runId) => runId.Length > 12 ? runId[..8] + "…" : runId;
}
