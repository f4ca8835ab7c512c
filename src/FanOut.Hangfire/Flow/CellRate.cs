namespace FanOut.Hangfire.Flow;

/// <summary>
/// The generic cell rate both throttle steps keep (the releases, <see cref="BudgetView.ReserveStart"/>, and the calls'
/// starts, <see cref="ThrottledStarts"/>): starts spaced one interval apart, with <c>Burst - 1</c> intervals of tolerance
/// after an idle spell. Times are Unix milliseconds.
/// </summary>
internal static class CellRate
{
    /// <summary>
    /// The earliest start no sooner than <paramref name="now"/> that the rate allows, given the theoretical time of the
    /// next start, and that time moved on past it.
    /// </summary>
    public static (long Start, long Next) Reserve(long theoretical, long now, long interval, int burst)
    {
        var start = Math.Max(now, theoretical - (interval * (burst - 1)));
        return (start, Math.Max(theoretical, start) + interval);
    }
}
