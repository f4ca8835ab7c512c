using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>A run's status as a Bootstrap label, coloured like Hangfire colours job states.</summary>
internal static class RunStatusLabel
{
    public static NonEscapedString Of(FanOutRun run) =>
        new HtmlBuilder().Append($"<span class=\"label {ClassOf(run)}\" data-status=\"{run.Status}\">{TextOf(run)}</span>").ToHtml();

    private static string ClassOf(FanOutRun run) => run.Status switch
    {
        FanOutRunStatus.CompletedWithFailures => "label-danger",
        FanOutRunStatus.Completed => "label-success",
        FanOutRunStatus.Dispatching or FanOutRunStatus.Running => "label-info",
        FanOutRunStatus.Interrupted or FanOutRunStatus.Cancelled => "label-warning",
        _ => "label-default",
    };

    private static string TextOf(FanOutRun run) => run.Status switch
    {
        FanOutRunStatus.CompletedWithFailures => "Completed with failures",
        _ => run.Status.ToString(),
    };
}
