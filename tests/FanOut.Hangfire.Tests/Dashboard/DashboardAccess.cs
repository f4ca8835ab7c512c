using Hangfire.Dashboard;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>An authorization filter a test turns on and off, counting the requests it judged.</summary>
public sealed class DashboardAccess : IDashboardAuthorizationFilter
{
    private int _judged;

    public bool Allow { get; set; } = true;

    public int Judged => _judged;

    public bool Authorize(DashboardContext context)
    {
        Interlocked.Increment(ref _judged);
        return Allow;
    }
}
