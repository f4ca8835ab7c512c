namespace FanOut.Hangfire;

/// <summary>
/// What a cron fan-out does about firings it missed while no Hangfire server ran (every server down, or the
/// application stopped): Hangfire's own misfire handling (<c>RecurringJobOptions.MisfireHandling</c>), applied to the
/// fan-out's recurring job. Each firing it makes is a run like any other, subject to <see cref="CronFanOutOptions.Overlap"/>.
/// </summary>
public enum FanOutMisfireHandling
{
    /// <summary>
    /// Missed firings are folded into one: when a server is back, the fan-out fires once, at once, and then on schedule.
    /// Hangfire's default.
    /// </summary>
    Relaxed = 0,

    /// <summary>
    /// Each missed firing happens: when a server is back, the fan-out fires once for every occurrence of its schedule
    /// it missed, oldest first. With <see cref="FanOutOverlap.Skip"/> the firings after the first find it dispatching
    /// and are recorded as skipped; use <see cref="FanOutOverlap.Wait"/> to have each one dispatch in turn.
    /// </summary>
    Strict = 1,

    /// <summary>
    /// Missed firings are dropped: when a server is back, the fan-out waits for the next occurrence of its schedule.
    /// </summary>
    Ignorable = 2,
}
