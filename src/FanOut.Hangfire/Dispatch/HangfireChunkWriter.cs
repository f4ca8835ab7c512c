namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// The generic path, for any Hangfire storage: the chunk's jobs are created the way Hangfire's own client creates them,
/// then one transaction moves them all to Enqueued and commits the checkpoint with them. A crash before that commit
/// leaves only uninitialized jobs, which never run and expire; the retry starts again from the last checkpoint. It
/// commits before it returns.
/// </summary>
internal sealed class HangfireChunkWriter : IFanOutChunkWriter
{
    public Task WriteAsync(FanOutChunk chunk)
    {
        // Chunks commit in order, and not after a chunk that failed.
        chunk.PreviousCommit.GetAwaiter().GetResult();
        chunk.WriteJobs(chunk.Connection, chunk.WriteCheckpoint);
        return Task.CompletedTask;
    }
}
