namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// How hard the reliability tests push. By default each scenario runs for real but briefly; set
/// <c>FANOUT_RELIABILITY_LONG=1</c> for the long variants (more kills, more firings, more items).
/// </summary>
internal static class ReliabilityRun
{
    public const string LongVariable = "FANOUT_RELIABILITY_LONG";

    public static bool IsLong { get; } = Environment.GetEnvironmentVariable(LongVariable) is "1" or "true" or "yes";

    public static int Pick(int normal, int @long) => IsLong ? @long : normal;

    /// <summary>Settings every test host of these tests gets, on top of its scenario's.</summary>
    public static Dictionary<string, string> HostSettings(params (string Key, object Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // A killed dispatcher's lease holds its fan-out until it runs out; the shortest allowed keeps kill cycles quick.
            ["FanOut:DispatchLeaseDuration"] = "00:00:05",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;
        }

        return all;
    }
}
