namespace FanOut.Hangfire;

/// <summary>
/// A limit shared by several handlers (two handlers calling one API share its budget), declared once with
/// <c>AddLimit(name, ...)</c> and used by a handler through <see cref="FanOutHandlerOptions.Limit"/>. Configuration
/// (<c>FanOut:Limits:{name}</c>) overrides code. The keys come from each handler that uses it.
/// </summary>
public sealed class FanOutLimitOptions
{
    /// <summary>Gets or sets how many calls of the handlers using this limit may run at once, across all servers.</summary>
    /// <value>The default value is <see langword="null"/>: no global concurrency limit.</value>
    public int? ConcurrencyLimit { get; set; }

    /// <summary>
    /// Gets or sets how many calls may run at once per concurrency key (a tenant, a workspace); each handler using the
    /// limit sets its key with <see cref="FanOutHandlerOptions.UseConcurrencyKey{TItem}"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no limit per key.</value>
    public int? ConcurrencyLimitPerKey { get; set; }

    /// <summary>Gets the throttle on starts: per throttle key when the handlers set one, else for the whole limit.</summary>
    public FanOutThrottleOptions Throttle { get; } = new();
}
