using System.Globalization;
using FanOut.Hangfire.Jobs;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// Adds to Hangfire's job page, for a fan-out child job, what its handler logged during each attempt, read through
/// <see cref="IFanOutRuns.GetJobLogAsync"/> (Hangfire's job details renderers are its public way to add to that page).
/// Other jobs get nothing, and cost no read.
/// </summary>
internal static class JobLogRenderer
{
    public const string SectionId = "fanout-job-log";

    // After anything that registered with Hangfire's default order, before renderers that ask to come last.
    private const int Order = 100;

    /// <summary>Registers the renderer with Hangfire's process-wide table; called once per process.</summary>
    public static void Register() => GlobalConfiguration.Configuration.UseJobDetailsRenderer(Order, Render);

    public static NonEscapedString Render(JobDetailsRendererDto dto)
    {
        ArgumentNullException.ThrowIfNull(dto);
        if (dto.JobDetails.Job?.Type != typeof(FanOutItemJob) || DashboardServices.Of(dto.Page.Context) is not { Runs: { } runs } services)
        {
            return new NonEscapedString(string.Empty);
        }

        // IFanOutRuns reads Hangfire's synchronous storage API: its task has completed when it returns.
        var logs = runs.GetJobLogAsync(dto.JobId, services.RequestAborted).GetAwaiter().GetResult();
        var html = new HtmlBuilder().Append($"<h3 id=\"{SectionId}\">Handler log</h3>");
        if (logs.Count == 0)
        {
            return html.Append($"<p class=\"text-muted\" data-log-empty>The handler logged nothing that was kept (FanOutOptions.JobLogs).</p>").ToHtml();
        }

        // The latest attempt first, as Hangfire lists the job's states.
        foreach (var log in logs.OrderByDescending(l => l.Attempt))
        {
            html.Append($"<h4>Attempt {log.Attempt:N0}");
            if (log.DroppedEntries > 0)
            {
                html.Append($" <small data-dropped=\"{log.DroppedEntries}\">{log.DroppedEntries:N0} earlier lines dropped</small>");
            }

            html.Append($"</h4><div class=\"table-responsive\"><table class=\"table table-condensed fanout-job-log\" data-attempt=\"{log.Attempt}\"><tbody>");
            foreach (var entry in log.Entries)
            {
                html.Append($"<tr data-level=\"{entry.Level}\"><td class=\"min-width\">{TimeOf(entry)}</td>");
                html.Append($"<td class=\"min-width\"><span class=\"label {LabelOf(entry.Level)}\">{entry.Level}</span></td>");
                html.Append($"<td class=\"min-width word-break\"><small>{entry.Category}</small></td>");
                html.Append($"<td class=\"word-break\" data-message>{entry.Message}");
                if (entry.Exception is not null)
                {
                    html.Append($"<pre class=\"stack-trace\" style=\"white-space: pre-wrap;\">{entry.Exception}</pre>");
                }

                html.Append($"</td></tr>");
            }

            html.Append($"</tbody></table></div>");
        }

        return html.ToHtml();
    }

    /// <summary>One line as text, as the run's page shows a failed item's last lines: time, level, category, message and the exception's first line.</summary>
    public static string LineOf(FanOutLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var line = $"{TimeOf(entry)} {entry.Level} {entry.Category}: {entry.Message}";
        return entry.Exception is { } exception ? line + " | " + exception.Split('\n', 2)[0].TrimEnd() : line;
    }

    private static string TimeOf(FanOutLogEntry entry) => entry.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string LabelOf(LogLevel level) => level switch
    {
        >= LogLevel.Error => "label-danger",
        LogLevel.Warning => "label-warning",
        LogLevel.Information => "label-info",
        _ => "label-default",
    };
}
