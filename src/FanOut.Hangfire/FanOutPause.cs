namespace FanOut.Hangfire;

/// <summary>A cron fan-out or handler that is paused, since when, and by what.</summary>
public sealed class FanOutPause
{
    internal FanOutPause(FanOutPauseTarget target, string id, DateTimeOffset? pausedAt, bool byConfiguration)
    {
        Target = target;
        Id = id;
        PausedAt = pausedAt;
        ByConfiguration = byConfiguration;
    }

    /// <summary>Gets whether a cron fan-out or a handler is paused.</summary>
    public FanOutPauseTarget Target { get; }

    /// <summary>Gets the cron fan-out's or handler's id.</summary>
    public string Id { get; }

    /// <summary>
    /// Gets when it was paused through <see cref="IFanOutControl"/> (or the dashboard); null when only configuration
    /// pauses it.
    /// </summary>
    public DateTimeOffset? PausedAt { get; }

    /// <summary>
    /// Gets whether configuration pauses it (<c>Paused</c> in its section). Such a pause is lifted only by changing the
    /// configuration; <see cref="IFanOutControl"/> cannot resume it.
    /// </summary>
    public bool ByConfiguration { get; }
}
