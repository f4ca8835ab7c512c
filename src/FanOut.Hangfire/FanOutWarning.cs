namespace FanOut.Hangfire;

/// <summary>
/// A misconfiguration the library noticed while running, such as a queue no Hangfire server listens to. Each is logged
/// at Warning once, shown on the dashboard's Fan-out page, and listed by <see cref="IFanOutCatalog.Warnings"/> while it
/// lasts.
/// </summary>
public sealed class FanOutWarning
{
    internal FanOutWarning(string message, DateTimeOffset since)
    {
        Message = message;
        Since = since;
    }

    /// <summary>Gets what is wrong, what it changes, and how to fix it.</summary>
    public string Message { get; }

    /// <summary>Gets when the library first noticed it.</summary>
    public DateTimeOffset Since { get; }
}
