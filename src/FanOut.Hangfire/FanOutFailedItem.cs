namespace FanOut.Hangfire;

/// <summary>A job of a run that failed with no retries left.</summary>
public sealed class FanOutFailedItem
{
    internal FanOutFailedItem(string handlerId, string itemKey, string jobId, string? exceptionType, string? exceptionMessage, DateTimeOffset? failedAt, FanOutJobLog? log = null)
    {
        HandlerId = handlerId;
        ItemKey = itemKey;
        JobId = jobId;
        ExceptionType = exceptionType;
        ExceptionMessage = exceptionMessage;
        FailedAt = failedAt;
        Log = log;
    }

    /// <summary>Gets the handler whose job failed.</summary>
    public string HandlerId { get; }

    /// <summary>Gets the key of the item.</summary>
    public string ItemKey { get; }

    /// <summary>Gets the id of the failed Hangfire job.</summary>
    public string JobId { get; }

    /// <summary>Gets the type of the last exception, when Hangfire recorded it.</summary>
    public string? ExceptionType { get; }

    /// <summary>Gets the message of the last exception, when Hangfire recorded it.</summary>
    public string? ExceptionMessage { get; }

    /// <summary>Gets when the job failed, when Hangfire recorded it.</summary>
    public DateTimeOffset? FailedAt { get; }

    /// <summary>
    /// Gets what the handler logged during the job's last attempt (see <see cref="FanOutJobLogOptions"/>), or null when it
    /// logged nothing that was kept.
    /// </summary>
    public FanOutJobLog? Log { get; }
}
