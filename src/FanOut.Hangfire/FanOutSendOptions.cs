namespace FanOut.Hangfire;

/// <summary>
/// Options of one send (<see cref="IFanOutClient.SendAsync{TItem}(string, TItem, FanOutSendOptions, CancellationToken)"/>
/// and both <c>SendManyAsync</c> overloads) or manual trigger
/// (<see cref="IFanOutClient.TriggerAsync(string, FanOutSendOptions, CancellationToken)"/>).
/// </summary>
public sealed class FanOutSendOptions
{
    /// <summary>The longest idempotency key accepted, in characters.</summary>
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>
    /// Gets or sets the idempotency key of the send: within <see cref="FanOutOptions.IdempotencyWindow"/> of the first
    /// send with this key (per event name; per cron fan-out for a trigger), another send with it returns the first
    /// run's id and sends nothing, on any process sharing the storage, however many race. A send that fails before
    /// anything of it is stored (no item sent) leaves the key free.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: no key, every call starts a run. A key is 1 to 200 characters, not
    /// only white space, with no control characters (such as NUL) and no lone surrogates; the call throws
    /// <see cref="ArgumentException"/> naming the key otherwise.
    /// </value>
    public string? IdempotencyKey { get; set; }
}
