namespace FanOut.Hangfire;

/// <summary>
/// Options of one cron fan-out, named by its id. Set in code by <c>AddCron</c>; configuration
/// (<c>FanOut:CronFanOuts:{id}</c>) overrides code.
/// </summary>
public sealed class CronFanOutOptions
{
    /// <summary>Gets or sets the schedule: a Cronos expression with 5 fields, or 6 with seconds first.</summary>
    /// <value>Set by <c>AddCron</c>; required.</value>
    public string Cron { get; set; } = string.Empty;

    /// <summary>Gets or sets the time zone the schedule is read in: an IANA or Windows id.</summary>
    /// <value>The default value is <c>UTC</c>.</value>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>
    /// Gets or sets whether the fan-out is scheduled. A disabled fan-out has no recurring job and cannot be triggered.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets what happens to firings missed while no Hangfire server ran: one firing for all of them
    /// (<see cref="FanOutMisfireHandling.Relaxed"/>), one for each (<see cref="FanOutMisfireHandling.Strict"/>), or none
    /// (<see cref="FanOutMisfireHandling.Ignorable"/>).
    /// </summary>
    /// <value>The default value is <see cref="FanOutMisfireHandling.Relaxed"/>, Hangfire's own default.</value>
    public FanOutMisfireHandling MisfireHandling { get; set; } = FanOutMisfireHandling.Relaxed;

    /// <summary>Gets or sets the Hangfire queue the dispatch job runs on (lowercase letters, digits, '_' and '-').</summary>
    /// <value>The default value is <c>default</c>.</value>
    public string Queue { get; set; } = "default";

    /// <summary>Gets or sets what a firing does when the previous dispatch of this fan-out still runs.</summary>
    /// <value>The default value is <see cref="FanOutOverlap.Skip"/>.</value>
    public FanOutOverlap Overlap { get; set; } = FanOutOverlap.Skip;

    /// <summary>Gets or sets how long a firing waits for the previous dispatch when <see cref="Overlap"/> is <see cref="FanOutOverlap.Wait"/>.</summary>
    /// <value>The default value is 10 minutes.</value>
    public TimeSpan OverlapWaitTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets whether configuration pauses the fan-out: its firings are skipped and recorded as skipped runs
    /// (reason <c>paused</c>), while a manual trigger still runs. It is paused when this or a pause made through
    /// <see cref="IFanOutControl"/> says so; <see cref="IFanOutControl.ResumeFanOutAsync"/> cannot lift this one. Read at
    /// start-up, like every option.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Paused { get; set; }
}
