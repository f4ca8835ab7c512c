using System.Globalization;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// Shows a job in the state FanOutWaiting (over its handler's limit, in storage, on no worker) on Hangfire's own job
/// page: which limit it waits for, its key, and when a throttled start is due, or the paused handler it waits for; and
/// colours the state like Hangfire colours a scheduled job. The state's name and data (Limit = "handler:{id}" or
/// "limit:{name}", Key, Due in Unix milliseconds; Paused = the handler's id) are the core's stored contract.
/// </summary>
internal static class WaitingStateRenderer
{
    public const string StateName = "FanOutWaiting";

    private const string HandlerPrefix = "handler:";
    private const string SharedPrefix = "limit:";

    // Hangfire answers "inherit" for a state with no suffix of its own.
    private const string NoSuffix = "inherit";

    /// <summary>Registers the renderer and the state's colour with Hangfire's process-wide tables; called once per process.</summary>
    public static void Register()
    {
        JobHistoryRenderer.Register(StateName, Render);

        // Hangfire 1.8 colours a state by its CSS suffix (the colour methods are obsolete); adding one twice throws.
        if (JobHistoryRenderer.GetStateCssSuffix(StateName) == NoSuffix)
        {
            JobHistoryRenderer.AddStateCssSuffix(StateName, "info");
        }
    }

    public static NonEscapedString Render(HtmlHelper helper, IDictionary<string, string>? data)
    {
        ArgumentNullException.ThrowIfNull(helper);
        if (Value(data, "Paused") is { Length: > 0 } pausedHandler)
        {
            return new HtmlBuilder()
                .Append($"<p class=\"fanout-waiting\">Waiting: handler <strong>{pausedHandler}</strong> is paused; it runs once the handler is resumed</p>")
                .Append($"<dl class=\"dl-horizontal\"><dt>Paused handler:</dt><dd data-paused=\"{pausedHandler}\">{pausedHandler}</dd></dl>")
                .ToHtml();
        }

        var (limit, shared) = LimitOf(Value(data, "Limit"));
        var key = Value(data, "Key");
        var due = DueOf(Value(data, "Due"));

        var html = new HtmlBuilder().Append($"<p class=\"fanout-waiting\">");
        if (due is null)
        {
            html.Append($"Waiting for a slot of <strong>{limit}</strong>");
        }
        else
        {
            html.Append($"Throttled by <strong>{limit}</strong>");
        }

        if (key.Length > 0)
        {
            html.Append($", key <code>{key}</code>");
        }

        if (due is { } start)
        {
            html.Append($": starts {helper.RelativeTime(start.UtcDateTime)}");
        }

        var kind = shared switch
        {
            true => " (shared)",
            false => " (the handler's own)",
            null => string.Empty,
        };
        html.Append($"</p><dl class=\"dl-horizontal\"><dt>Limit:</dt><dd data-limit=\"{limit}\">{limit}{kind}</dd>");
        if (key.Length > 0)
        {
            html.Append($"<dt>Key:</dt><dd><code>{key}</code></dd>");
        }

        if (due is { } at)
        {
            html.Append($"<dt>Starts at:</dt><dd>{at.ToString("u", CultureInfo.InvariantCulture)}</dd>");
        }

        return html.Append($"</dl>").ToHtml();
    }

    private static string Value(IDictionary<string, string>? data, string name) =>
        data is not null && data.TryGetValue(name, out var value) && value is not null ? value : string.Empty;

    /// <summary>The limit's name from its storage id, and whether it is shared (null for an id of another form).</summary>
    private static (string Name, bool? Shared) LimitOf(string storageId) =>
        storageId.StartsWith(HandlerPrefix, StringComparison.Ordinal) ? (storageId[HandlerPrefix.Length..], false)
        : storageId.StartsWith(SharedPrefix, StringComparison.Ordinal) ? (storageId[SharedPrefix.Length..], true)
        : (storageId, null);

    private static DateTimeOffset? DueOf(string unixMilliseconds) =>
        long.TryParse(unixMilliseconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
}
