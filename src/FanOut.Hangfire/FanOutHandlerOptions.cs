namespace FanOut.Hangfire;

/// <summary>
/// Options of one handler, named by its id. Set in code by <c>AddHandler</c>; configuration
/// (<c>FanOut:Handlers:{id}</c>) overrides code.
/// </summary>
public sealed class FanOutHandlerOptions
{
    /// <summary>
    /// Gets or sets how many times Hangfire retries a failed call. A job out of retries ends Failed, visible and
    /// requeueable in the dashboard.
    /// </summary>
    /// <value>The default value is 10, Hangfire's own default. Zero means no retry.</value>
    public int RetryAttempts { get; set; } = 10;

    /// <summary>
    /// Gets or sets the delays before each retry; the last one repeats. Empty means Hangfire's growing back-off.
    /// A zero delay re-enqueues at once; other delays have one-second precision.
    /// </summary>
    /// <value>The default value is empty (Hangfire's back-off).</value>
    public IList<TimeSpan> RetryDelays { get; } = [];

    /// <summary>Gets or sets the Hangfire queue the handler's jobs run on (lowercase letters, digits, '_' and '-').</summary>
    /// <value>The default value is <c>default</c>.</value>
    public string Queue { get; set; } = "default";

    /// <summary>
    /// Gets or sets how many calls of this handler may run at once, across all servers. A job over the limit waits in
    /// storage, not on a worker, and becomes runnable when a call ends.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no limit.</value>
    public int? ConcurrencyLimit { get; set; }

    /// <summary>
    /// Gets or sets how many calls may run at once per concurrency key (set the key with
    /// <see cref="UseConcurrencyKey{TItem}"/>). Waiting jobs are released oldest first within a key and round-robin
    /// across keys. Combines with <see cref="ConcurrencyLimit"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no limit per key.</value>
    public int? ConcurrencyLimitPerKey { get; set; }

    /// <summary>Gets the throttle on this handler's starts: per throttle key when one is set, else for the whole handler.</summary>
    public FanOutThrottleOptions Throttle { get; } = new();

    /// <summary>
    /// Gets or sets the name of a shared limit declared with <c>AddLimit</c>, whose concurrency and throttle settings this
    /// handler then shares with every other handler using it (its own limit settings must stay unset).
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the handler's own settings apply.</value>
    public string? Limit { get; set; }

    /// <summary>
    /// Gets or sets whether configuration pauses the handler: its jobs are dispatched but wait, in storage and on no
    /// worker, until it is no longer paused. It is paused when this or a pause made through <see cref="IFanOutControl"/>
    /// says so; <see cref="IFanOutControl.ResumeHandlerAsync"/> cannot lift this one. Read at start-up, like every option.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Paused { get; set; }

    /// <summary>
    /// Gets or sets, for a batch handler (<c>AddBatchHandler</c>), the most items one call gets: 1 to 1,000, 100 when not
    /// set. A batch is formed from one chunk of the dispatch (<see cref="FanOutOptions.ChunkSize"/>, 500 by default),
    /// so it never holds more items than a chunk. Setting it for a handler declared with <c>AddHandler</c> fails at
    /// start-up.
    /// </summary>
    /// <remarks>
    /// 100 makes a job's fixed cost (a fetch and two state changes, a few milliseconds) about 1% of each item's, keeps
    /// the stored job small (100 items of a few hundred bytes), and bounds what a worker that dies mid-call hands to its
    /// next attempt. Raise it for bulk APIs that take more at once.
    /// </remarks>
    public int? MaxBatchSize { get; set; }

    // The key functions, as (the item type they take, the function over an item of it): code only, not configuration.
    internal (Type ItemType, Func<object?, string?> Of)? ConcurrencyKey { get; private set; }

    internal (Type ItemType, Func<object?, string?> Of)? ThrottleKey { get; private set; }

    internal (Type ItemType, Func<object?, string?> Of)? BatchKey { get; private set; }

    /// <summary>
    /// Sets the key that <see cref="ConcurrencyLimitPerKey"/> counts by, computed from the item at dispatch (a tenant,
    /// a workspace). A key that is null, empty, longer than 200 characters, or whose function throws fails that item's
    /// job at dispatch, saying why; the rest of the run goes on.
    /// </summary>
    /// <typeparam name="TItem">The handler's item type.</typeparam>
    /// <param name="key">Computes the key from an item.</param>
    public void UseConcurrencyKey<TItem>(Func<TItem, string?> key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ConcurrencyKey = (typeof(TItem), item => key((TItem)item!));
    }

    /// <summary>
    /// Sets the key the throttle counts by (a channel), computed from the item at dispatch; with none, the throttle is
    /// for the whole handler. Its rules are those of <see cref="UseConcurrencyKey{TItem}"/>.
    /// </summary>
    /// <typeparam name="TItem">The handler's item type.</typeparam>
    /// <param name="key">Computes the key from an item.</param>
    public void UseThrottleKey<TItem>(Func<TItem, string?> key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrottleKey = (typeof(TItem), item => key((TItem)item!));
    }

    /// <summary>
    /// For a batch handler, sets the key items must share to be handed over in one call (a Slack workspace, a tenant's
    /// database), computed from the item at dispatch: a batch holds items of one key only. Its rules are those of
    /// <see cref="UseConcurrencyKey{TItem}"/>; the key is given to the call as <see cref="FanOutBatchContext.BatchKey"/>.
    /// A batch handler with a concurrency or throttle key also keeps items of different limit keys apart.
    /// </summary>
    /// <typeparam name="TItem">The handler's item type.</typeparam>
    /// <param name="key">Computes the key from an item.</param>
    public void UseBatchKey<TItem>(Func<TItem, string?> key)
    {
        ArgumentNullException.ThrowIfNull(key);
        BatchKey = (typeof(TItem), item => key((TItem)item!));
    }
}
