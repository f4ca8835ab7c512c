namespace FanOut.Hangfire.Runs;

/// <summary>How far a run's dispatch got: committed in the same transaction as the jobs it counts.</summary>
internal readonly record struct DispatchCheckpoint(long Items, long Jobs, string? LastKey)
{
    public static DispatchCheckpoint Start => new(0, 0, null);
}
