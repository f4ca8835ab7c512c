using System.Globalization;
using System.Text.RegularExpressions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Reads the Fan-out page's limits table, by the data attributes of its rows.</summary>
public static class LimitsHtml
{
    /// <summary>The markup of the row of the limit <paramref name="name"/>.</summary>
    public static string Row(string html, string name, bool shared)
    {
        var row = Regex.Match(
            html,
            $"<tr id=\"[^\"]*\" data-limit=\"{Regex.Escape(name)}\" data-shared=\"{(shared ? "true" : "false")}\">(.*?)</tr>",
            RegexOptions.Singleline);
        row.Success.Should().BeTrue($"the limits table has a row for limit '{name}'");
        return row.Groups[1].Value;
    }

    /// <summary>A count of a limit's row (the first in it: the limit's own, before its keys').</summary>
    public static long Count(string row, string count) => Number(row, count);

    /// <summary>A count of one of the busiest keys in a limit's row.</summary>
    public static long KeyCount(string row, string key, string count)
    {
        var item = Regex.Match(row, $"<li data-key=\"{Regex.Escape(key)}\">(.*?)</li>", RegexOptions.Singleline);
        item.Success.Should().BeTrue($"key '{key}' is among the busiest keys");
        return Number(item.Groups[1].Value, count);
    }

    /// <summary>The busiest keys of a limit's row, in the order shown.</summary>
    public static IReadOnlyList<string> Keys(string row) =>
        [.. Regex.Matches(row, "<li data-key=\"([^\"]*)\">").Select(m => m.Groups[1].Value)];

    private static long Number(string html, string count)
    {
        var cell = Regex.Match(html, $"data-count=\"{Regex.Escape(count)}\">([^<]*)<");
        cell.Success.Should().BeTrue($"a '{count}' count is shown");
        return long.Parse(cell.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.CurrentCulture);
    }
}
