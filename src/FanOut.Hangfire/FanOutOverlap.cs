namespace FanOut.Hangfire;

/// <summary>
/// What a cron firing does when it finds a dispatch of the same fan-out still running, on this server or any other.
/// Two dispatches of one fan-out never run at the same time.
/// </summary>
public enum FanOutOverlap
{
    /// <summary>
    /// The firing is skipped: it logs a warning, dispatches nothing and its Hangfire job succeeds with a result that
    /// says so. The next firing dispatches as usual.
    /// </summary>
    Skip = 0,

    /// <summary>
    /// The firing waits for the running dispatch to finish, up to <see cref="CronFanOutOptions.OverlapWaitTimeout"/>,
    /// holding a Hangfire worker while it waits; then it dispatches. If the wait times out, the firing's job fails
    /// and Hangfire retries it.
    /// </summary>
    Wait = 1,

    /// <summary>
    /// At most one firing waits for the running dispatch, as with <see cref="Wait"/> (up to
    /// <see cref="CronFanOutOptions.OverlapWaitTimeout"/>), and dispatches as soon as it ends; a further firing while one
    /// waits is skipped, as with <see cref="Skip"/>. The waiting place is held in storage, so this holds across servers.
    /// </summary>
    BufferOne = 2,
}
