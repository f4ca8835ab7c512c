namespace FanOut.Hangfire;

/// <summary>A declared handler, with its options as resolved from code and configuration.</summary>
public sealed class FanOutHandlerInfo
{
    internal FanOutHandlerInfo(string id, string eventName, Type handlerType, FanOutHandlerOptions options, int? maxBatchSize = null)
    {
        MaxBatchSize = maxBatchSize;
        Id = id;
        EventName = eventName;
        HandlerType = handlerType;
        Queue = options.Queue;
        RetryAttempts = options.RetryAttempts;
    }

    /// <summary>Gets the handler's id.</summary>
    public string Id { get; }

    /// <summary>Gets the event it listens to.</summary>
    public string EventName { get; }

    /// <summary>Gets its class.</summary>
    public Type HandlerType { get; }

    /// <summary>Gets the Hangfire queue of its jobs.</summary>
    public string Queue { get; }

    /// <summary>Gets how many times a failed call is retried before its job ends Failed.</summary>
    public int RetryAttempts { get; }

    /// <summary>Gets, for a batch handler, the most items one call gets; null for an item handler.</summary>
    public int? MaxBatchSize { get; }
}
