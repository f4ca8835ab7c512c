namespace FanOut.Hangfire;

/// <summary>Describes the dispatch a source is streaming items for.</summary>
public sealed class FanOutSourceContext
{
    internal FanOutSourceContext(string fanOutId, string eventName, string runId, DateTimeOffset triggeredAt)
    {
        FanOutId = fanOutId;
        EventName = eventName;
        RunId = runId;
        TriggeredAt = triggeredAt;
    }

    /// <summary>Gets the id of the cron fan-out being dispatched.</summary>
    public string FanOutId { get; }

    /// <summary>Gets the name of the event the items are sent as.</summary>
    public string EventName { get; }

    /// <summary>Gets the id of the run. It stays the same when an interrupted dispatch is retried.</summary>
    public string RunId { get; }

    /// <summary>
    /// Gets when the run was triggered (the cron firing or the manual trigger). It stays the same when an
    /// interrupted dispatch is retried, so a source can use it to read a consistent snapshot.
    /// </summary>
    public DateTimeOffset TriggeredAt { get; }
}
