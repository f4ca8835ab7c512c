namespace FanOut.Hangfire.Runs;

/// <summary>Run ids: version 7 GUIDs, so they sort by creation time.</summary>
internal static class RunIds
{
    public static string New() => Guid.CreateVersion7().ToString("N");
}
