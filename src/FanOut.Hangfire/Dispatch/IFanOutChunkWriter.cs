using System.Diagnostics.CodeAnalysis;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Writes the child jobs of one chunk of a dispatch into Hangfire's storage: the extensibility point of storage fast
/// paths (FanOut.Hangfire.PostgreSql is one). The default writer, used on every storage, is Hangfire's own API:
/// <code>
/// chunk.PreviousCommit.GetAwaiter().GetResult();
/// chunk.WriteJobs(chunk.Connection, chunk.WriteCheckpoint);
/// return Task.CompletedTask;
/// </code>
/// A fast path runs <see cref="FanOutChunk.WriteJobs"/> on a connection of its own, which records what Hangfire's job
/// factory and state machine write and sends it to the database in fewer statements. Install one with
/// <c>UseChunkWriter&lt;TWriter&gt;()</c>; it is a singleton.
/// </summary>
/// <remarks>
/// The rules every writer keeps, on which exactly-once dispatch rests:
/// <list type="bullet">
/// <item>The chunk's jobs and <see cref="FanOutChunk.WriteCheckpoint"/>'s writes commit in one storage transaction, or
/// none of them does.</item>
/// <item>Chunks commit in order: a chunk commits only after <see cref="FanOutChunk.PreviousCommit"/> completed
/// successfully; if that failed, the chunk is not committed and its task fails too.</item>
/// <item>The returned task completes once the chunk has committed, and fails if it did not. A writer may return it
/// before the commit, so that the next chunk is written meanwhile.</item>
/// <item><see cref="FanOutChunk.Connection"/> may be used only until this method returns.</item>
/// </list>
/// </remarks>
[Experimental(FanOutChunk.Diagnostic)]
public interface IFanOutChunkWriter
{
    /// <summary>Writes and commits one chunk.</summary>
    /// <param name="chunk">The chunk, with what it must commit together with its jobs.</param>
    /// <returns>A task that completes once the chunk has committed.</returns>
    Task WriteAsync(FanOutChunk chunk);
}
