namespace FanOut.Hangfire.Dashboard;

/// <summary>Adds the Fan-out pages to Hangfire's dashboard, once per process.</summary>
internal static class FanOutDashboard
{
    public static void EnsureRegistered()
    {
    }
}
