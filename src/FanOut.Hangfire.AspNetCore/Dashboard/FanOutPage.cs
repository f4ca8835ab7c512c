using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;

namespace FanOut.Hangfire.Dashboard;

/// <summary>A Fan-out page: its content in Hangfire's layout, with the links and fragments the pages share.</summary>
internal abstract class FanOutPage : RazorPage
{
    public const string Path = "/fanout";

    protected abstract string Title { get; }

    public override void Execute()
    {
        Layout = new LayoutPage(Title);
        var html = new HtmlBuilder();
        Render(html);
        WriteLiteral(html.ToString());
    }

    protected abstract void Render(HtmlBuilder html);

    protected string ListUrl(string? name = null) =>
        Url.To(name is null ? Path : $"{Path}?name={Uri.EscapeDataString(name)}");

    protected string RunUrl(string runId) => Url.To($"{Path}/runs/{Uri.EscapeDataString(runId)}");

    protected string LimitUrl(FanOutLimitStatus limit) => ListUrl() + "#" + Uri.EscapeDataString(HandlerLimits.AnchorOf(limit));

    protected NonEscapedString Time(DateTimeOffset? value) =>
        value is { } time ? Html.RelativeTime(time.UtcDateTime) : Html.Raw("<em>—</em>");

    // Hangfire's storages hand out UTC times, not always marked as such.
    protected NonEscapedString Time(DateTime? utc) =>
        Time(utc is { } value ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)) : null);

    protected static NonEscapedString Alert(string kind, string message) =>
        new HtmlBuilder().Append($"<div class=\"alert alert-{kind}\">{message}</div>").ToHtml();
}
