namespace FanOut.Hangfire;

/// <summary>A declared cron fan-out, with its options as resolved from code and configuration.</summary>
public sealed class FanOutCronInfo
{
    internal FanOutCronInfo(string id, string eventName, CronFanOutOptions options, string recurringJobId, Type sourceType, Type? completionHandlerType)
    {
        Id = id;
        EventName = eventName;
        Cron = options.Cron;
        TimeZone = options.TimeZone;
        Queue = options.Queue;
        Enabled = options.Enabled;
        Overlap = options.Overlap;
        MisfireHandling = options.MisfireHandling;
        RecurringJobId = recurringJobId;
        SourceType = sourceType;
        CompletionHandlerType = completionHandlerType;
    }

    /// <summary>Gets the fan-out's id.</summary>
    public string Id { get; }

    /// <summary>Gets the event its items are sent as.</summary>
    public string EventName { get; }

    /// <summary>Gets its schedule, a Cronos expression.</summary>
    public string Cron { get; }

    /// <summary>Gets the id of the time zone its schedule is read in.</summary>
    public string TimeZone { get; }

    /// <summary>Gets the Hangfire queue of its dispatch job.</summary>
    public string Queue { get; }

    /// <summary>Gets whether it is scheduled.</summary>
    public bool Enabled { get; }

    /// <summary>Gets what a firing does while the previous dispatch still runs.</summary>
    public FanOutOverlap Overlap { get; }

    /// <summary>Gets what happens to firings missed while no Hangfire server ran.</summary>
    public FanOutMisfireHandling MisfireHandling { get; }

    /// <summary>Gets the id of the Hangfire recurring job that fires it (<c>fanout:{id}</c>), present while it is enabled.</summary>
    public string RecurringJobId { get; }

    /// <summary>Gets the class of its source.</summary>
    public Type SourceType { get; }

    /// <summary>Gets the class of its completion handler, or null when none is declared.</summary>
    public Type? CompletionHandlerType { get; }
}
