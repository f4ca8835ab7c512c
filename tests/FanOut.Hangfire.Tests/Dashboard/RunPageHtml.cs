using System.Globalization;
using System.Text.RegularExpressions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Reads the counts a run's page shows, by the data attributes of its handler table.</summary>
public static partial class RunPageHtml
{
    /// <summary>A count of one handler's row, or of the "All handlers" row when <paramref name="handlerId"/> is empty.</summary>
    public static long Count(string html, string handlerId, string count)
    {
        var row = Regex.Match(html, $"<tr data-handler=\"{Regex.Escape(handlerId)}\">(.*?)</tr>", RegexOptions.Singleline);
        row.Success.Should().BeTrue($"the page has a row for handler '{handlerId}'");
        var cell = Regex.Match(row.Groups[1].Value, $"data-count=\"{Regex.Escape(count)}\">([^<]*)<");
        cell.Success.Should().BeTrue($"the row of handler '{handlerId}' shows a '{count}' count");
        return long.Parse(cell.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.CurrentCulture);
    }

    public static IReadOnlyList<string> JobLinks(string html) =>
        [.. JobLink().Matches(html).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("href=\"/hangfire/jobs/details/([^\"]+)\"")]
    private static partial Regex JobLink();
}
