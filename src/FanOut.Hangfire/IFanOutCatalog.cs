namespace FanOut.Hangfire;

/// <summary>
/// What this application declared, as resolved at start-up from code and configuration: its cron fan-outs, events and
/// handlers, and the misconfigurations noticed since. Registered by <c>AddFanOut</c>; the dashboard's Fan-out page
/// shows it.
/// </summary>
public interface IFanOutCatalog
{
    /// <summary>Gets the cron fan-outs, enabled or not, ordered by id.</summary>
    IReadOnlyList<FanOutCronInfo> CronFanOuts { get; }

    /// <summary>Gets the events a handler listens to, ordered by name, each with its handlers in declaration order.</summary>
    IReadOnlyList<FanOutEventInfo> Events { get; }

    /// <summary>Gets the misconfigurations that currently hold, oldest first.</summary>
    IReadOnlyList<FanOutWarning> Warnings { get; }
}
