using System.Globalization;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>Numbers as the tables show them: invariant culture, thousands separated.</summary>
internal static class Format
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";

    public static string Ratio(double ratio) => ratio.ToString("F1", CultureInfo.InvariantCulture) + "x";

    /// <summary>A plain number for the machine-readable last line.</summary>
    public static string Plain(double value, int decimals = 0) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
