namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// A seam for fault-injection tests: called inside each chunk's transaction after its jobs were created and before the
/// commit, the most delicate instant of a dispatch. Nothing is set in production.
/// </summary>
internal sealed class DispatchHooks
{
    public Action<string, DispatchCheckpointInfo>? ChunkCommitting { get; set; }
}

/// <summary>The checkpoint a chunk is about to commit.</summary>
internal readonly record struct DispatchCheckpointInfo(long Items, long Jobs);
