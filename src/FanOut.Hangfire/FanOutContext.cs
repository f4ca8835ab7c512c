namespace FanOut.Hangfire;

/// <summary>Describes one handler call: which run, handler and item it is for, and which attempt.</summary>
public sealed class FanOutContext
{
    // Hangfire keeps the retry count in storage: reading it is a query, made only for a handler that asks.
    private readonly Lazy<int> _attempt;

    internal FanOutContext(string runId, string eventName, string handlerId, string itemKey, Func<int> attempt, string jobId)
        : this(runId, eventName, handlerId, itemKey, new Lazy<int>(attempt, LazyThreadSafetyMode.ExecutionAndPublication), jobId)
    {
    }

    // The items of one batch share their job's attempt, read once.
    internal FanOutContext(string runId, string eventName, string handlerId, string itemKey, Lazy<int> attempt, string jobId)
    {
        RunId = runId;
        EventName = eventName;
        HandlerId = handlerId;
        ItemKey = itemKey;
        _attempt = attempt;
        JobId = jobId;
        IdempotencyKey = $"{runId}/{handlerId}/{itemKey}";
    }

    /// <summary>Gets the id of the run (cron firing or send) this item belongs to.</summary>
    public string RunId { get; }

    /// <summary>Gets the name of the event the item was sent as.</summary>
    public string EventName { get; }

    /// <summary>Gets the id of the handler being called.</summary>
    public string HandlerId { get; }

    /// <summary>
    /// Gets the item's key: a string item itself, the text of a number, or the <c>id</c> or <c>key</c>
    /// property of an object item (see the README for the full rule).
    /// </summary>
    public string ItemKey { get; }

    /// <summary>Gets the attempt number, starting at 1; each Hangfire retry adds one. It is read from storage the first time it is asked for.</summary>
    public int Attempt => _attempt.Value;

    /// <summary>Gets the id of the Hangfire background job running this call.</summary>
    public string JobId { get; }

    /// <summary>
    /// Gets a key that is the same for every attempt of this (run, handler, item) and different for any
    /// other, in the form <c>{runId}/{handlerId}/{itemKey}</c>. Use it to make side effects idempotent.
    /// </summary>
    public string IdempotencyKey { get; }
}
