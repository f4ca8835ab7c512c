using Cronos;
using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Registration;

/// <summary>A cron fan-out with its resolved options, schedule, time zone and source reader.</summary>
internal sealed record RegisteredCron(
    string Id,
    string EventName,
    Type SourceType,
    Type ItemType,
    CronFanOutOptions Options,
    CronExpression Schedule,
    TimeZoneInfo TimeZone,
    ISourceReader Source)
{
    /// <summary>The id of the recurring job the library owns for this fan-out.</summary>
    public string RecurringJobId => StorageKeys.RecurringJob(Id);
}
