namespace FanOut.Hangfire.Hosting;

/// <summary>
/// How often each process looks for runs whose dispatcher stopped. Not an option: with the lease it bounds how long an
/// interrupted run waits (the lease, then up to one interval), and the default suits every application; tests register
/// a shorter one before <c>AddFanOut</c>.
/// </summary>
internal sealed class DispatchRecoverySettings
{
    /// <summary>Between two looks; the first comes one interval after start, so a storage that hands a dead process's jobs out again at once goes first.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);
}
