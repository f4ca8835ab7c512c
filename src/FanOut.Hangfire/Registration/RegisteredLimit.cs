namespace FanOut.Hangfire.Registration;

/// <summary>
/// A concurrency and throttle budget as resolved at start-up: a handler's own (named after it) or a shared limit
/// declared with <c>AddLimit</c>. <see cref="StorageId"/> names its state in storage: <c>handler:{id}</c> or
/// <c>limit:{name}</c>, so a handler and a shared limit of the same name never share one.
/// </summary>
internal sealed record RegisteredLimit(
    string Name,
    bool Shared,
    int? ConcurrencyLimit,
    int? ConcurrencyLimitPerKey,
    int? ThrottlePermitLimit,
    TimeSpan ThrottleWindow,
    int ThrottleBurst)
{
    public string StorageId => (Shared ? "limit:" : "handler:") + Name;

    public bool LimitsConcurrency => ConcurrencyLimit is not null || ConcurrencyLimitPerKey is not null;

    public bool Throttles => ThrottlePermitLimit is not null;

    /// <summary>The spacing of starts under the throttle: <c>Window / PermitLimit</c>.</summary>
    public TimeSpan ThrottleInterval => ThrottlePermitLimit is { } permits ? ThrottleWindow / permits : TimeSpan.Zero;

    /// <summary>What the limit allows, for messages and the dashboard: "20 at once, 3 per key, 1 start per 00:00:01".</summary>
    public string Describe()
    {
        var parts = new List<string>(3);
        if (ConcurrencyLimit is { } global)
        {
            parts.Add($"{global} at once");
        }

        if (ConcurrencyLimitPerKey is { } perKey)
        {
            parts.Add($"{perKey} at once per key");
        }

        if (ThrottlePermitLimit is { } permits)
        {
            parts.Add($"{permits} start{(permits == 1 ? string.Empty : "s")} per {ThrottleWindow}" + (ThrottleBurst > 1 ? $", bursts of {ThrottleBurst}" : string.Empty));
        }

        return string.Join(", ", parts);
    }
}
