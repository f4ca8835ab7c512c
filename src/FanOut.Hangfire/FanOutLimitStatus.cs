namespace FanOut.Hangfire;

/// <summary>
/// A limit and how it is used now: a handler's own (named after the handler) or a shared one, what it allows, how many
/// calls hold its slots and how many jobs wait, and its busiest keys. Read from storage, so every server sees the same.
/// </summary>
public sealed class FanOutLimitStatus
{
    internal FanOutLimitStatus(
        string name,
        bool shared,
        IReadOnlyList<string> handlerIds,
        int? concurrencyLimit,
        int? concurrencyLimitPerKey,
        int? throttlePermitLimit,
        TimeSpan throttleWindow,
        int throttleBurst,
        string description,
        long running,
        long waiting,
        IReadOnlyList<FanOutLimitKeyStatus> busiestKeys)
    {
        Name = name;
        Shared = shared;
        HandlerIds = handlerIds;
        ConcurrencyLimit = concurrencyLimit;
        ConcurrencyLimitPerKey = concurrencyLimitPerKey;
        ThrottlePermitLimit = throttlePermitLimit;
        ThrottleWindow = throttleWindow;
        ThrottleBurst = throttleBurst;
        Description = description;
        Running = running;
        Waiting = waiting;
        BusiestKeys = busiestKeys;
    }

    /// <summary>Gets the limit's name: the handler's id for a handler's own limit, else the name given to <c>AddLimit</c>.</summary>
    public string Name { get; }

    /// <summary>Gets whether the limit was declared with <c>AddLimit</c> and may serve several handlers.</summary>
    public bool Shared { get; }

    /// <summary>Gets the ids of the handlers drawing on the limit.</summary>
    public IReadOnlyList<string> HandlerIds { get; }

    /// <summary>Gets how many calls may run at once across all servers, if limited.</summary>
    public int? ConcurrencyLimit { get; }

    /// <summary>Gets how many calls may run at once per concurrency key, if limited.</summary>
    public int? ConcurrencyLimitPerKey { get; }

    /// <summary>Gets how many calls may start per <see cref="ThrottleWindow"/>, if throttled.</summary>
    public int? ThrottlePermitLimit { get; }

    /// <summary>Gets the throttle's window.</summary>
    public TimeSpan ThrottleWindow { get; }

    /// <summary>Gets how many starts the throttle allows at once after an idle spell.</summary>
    public int ThrottleBurst { get; }

    /// <summary>Gets what the limit allows, in words: "20 at once, 3 at once per key, 1 start per 00:00:01".</summary>
    public string Description { get; }

    /// <summary>Gets how many calls hold a slot now: enqueued, running, or parked for a throttled start.</summary>
    public long Running { get; }

    /// <summary>Gets how many jobs wait for a slot (not counting those parked for a throttled start).</summary>
    public long Waiting { get; }

    /// <summary>Gets the keys with the most jobs waiting (up to five, most first), for a limit per key.</summary>
    public IReadOnlyList<FanOutLimitKeyStatus> BusiestKeys { get; }
}

/// <summary>One concurrency key of a limit: how many of its calls hold a slot and how many of its jobs wait.</summary>
public sealed class FanOutLimitKeyStatus
{
    internal FanOutLimitKeyStatus(string key, long running, long waiting)
    {
        Key = key;
        Running = running;
        Waiting = waiting;
    }

    /// <summary>Gets the key.</summary>
    public string Key { get; }

    /// <summary>Gets how many of its calls hold a slot.</summary>
    public long Running { get; }

    /// <summary>Gets how many of its jobs wait.</summary>
    public long Waiting { get; }
}
