namespace FanOut.Hangfire;

/// <summary>Describes one call of a batch handler: which run, handler and batch it is for, and which attempt.</summary>
public sealed class FanOutBatchContext
{
    private readonly Lazy<int> _attempt;

    internal FanOutBatchContext(string runId, string eventName, string handlerId, string? batchKey, int batchSize, Lazy<int> attempt, string jobId)
    {
        RunId = runId;
        EventName = eventName;
        HandlerId = handlerId;
        BatchKey = batchKey;
        BatchSize = batchSize;
        _attempt = attempt;
        JobId = jobId;
    }

    /// <summary>Gets the id of the run (cron firing or send) the batch belongs to.</summary>
    public string RunId { get; }

    /// <summary>Gets the name of the event the items were sent as.</summary>
    public string EventName { get; }

    /// <summary>Gets the id of the handler being called.</summary>
    public string HandlerId { get; }

    /// <summary>
    /// Gets the key every item of the batch shares (<see cref="FanOutHandlerOptions.UseBatchKey{TItem}"/>), or null when
    /// the handler has no batch key.
    /// </summary>
    public string? BatchKey { get; }

    /// <summary>
    /// Gets how many items the batch was dispatched with. A retry hands the handler only the items still to do, so the
    /// call may have fewer.
    /// </summary>
    public int BatchSize { get; }

    /// <summary>Gets the attempt number, starting at 1; each Hangfire retry adds one. It is read from storage the first time it is asked for.</summary>
    public int Attempt => _attempt.Value;

    /// <summary>Gets the id of the Hangfire background job running this call.</summary>
    public string JobId { get; }
}
