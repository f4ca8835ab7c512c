namespace FanOut.Hangfire.Hosting;

/// <summary>
/// How often each process looks at the Hangfire servers in storage, and how long runs may wait with none before it
/// warns. Not an option: the defaults suit every application; tests register shorter ones before <c>AddFanOut</c>.
/// </summary>
internal sealed class ServerWatchSettings
{
    /// <summary>Between two looks; the first comes one interval after start, once the process's own server announced itself.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long open runs may wait with no live server before it warns.</summary>
    public TimeSpan NoServerGrace { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A server whose last heartbeat is older than this is taken for dead (Hangfire's own server timeout).</summary>
    public TimeSpan ServerTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
