namespace FanOut.Hangfire;

/// <summary>
/// Options of one handler, named by its id. Set in code by <c>AddHandler</c>; configuration
/// (<c>FanOut:Handlers:{id}</c>) overrides code.
/// </summary>
public sealed class FanOutHandlerOptions
{
    /// <summary>
    /// Gets or sets how many times Hangfire retries a failed call. A job out of retries ends Failed, visible and
    /// requeueable in the dashboard.
    /// </summary>
    /// <value>The default value is 10, Hangfire's own default. Zero means no retry.</value>
    public int RetryAttempts { get; set; } = 10;

    /// <summary>
    /// Gets or sets the delays before each retry; the last one repeats. Empty means Hangfire's growing back-off.
    /// A zero delay re-enqueues at once; other delays have one-second precision.
    /// </summary>
    /// <value>The default value is empty (Hangfire's back-off).</value>
    public IList<TimeSpan> RetryDelays { get; } = [];

    /// <summary>Gets or sets the Hangfire queue the handler's jobs run on (lowercase letters, digits, '_' and '-').</summary>
    /// <value>The default value is <c>default</c>.</value>
    public string Queue { get; set; } = "default";
}
