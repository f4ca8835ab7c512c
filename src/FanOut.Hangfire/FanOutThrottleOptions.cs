namespace FanOut.Hangfire;

/// <summary>
/// A throttle: at most <see cref="PermitLimit"/> calls start per <see cref="Window"/>, spread evenly over it, for a whole
/// handler or limit, or for each key when a throttle key is set (<see cref="FanOutHandlerOptions.UseThrottleKey{TItem}"/>).
/// The excess waits in storage for its start; it is never dropped or failed. The names follow
/// <c>System.Threading.RateLimiting</c>.
/// </summary>
public sealed class FanOutThrottleOptions
{
    /// <summary>
    /// Gets or sets how many calls may start per <see cref="Window"/>. Starts are spaced <c>Window / PermitLimit</c>
    /// apart (a generic cell rate: one per second for 60 per minute), so no window of that length sees more than
    /// <c>PermitLimit + Burst - 1</c> starts.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no throttle.</value>
    public int? PermitLimit { get; set; }

    /// <summary>Gets or sets the period <see cref="PermitLimit"/> counts over (100 milliseconds to 1 day).</summary>
    /// <value>The default value is one second.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many calls may start at once after an idle spell, before starts are spaced out again.
    /// </summary>
    /// <value>The default value is 1: no burst, every start spaced.</value>
    public int Burst { get; set; } = 1;
}
