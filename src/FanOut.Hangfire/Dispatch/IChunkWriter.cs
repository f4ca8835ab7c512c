using FanOut.Hangfire.Registration;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Creates the child jobs of one chunk (one per item and handler) and commits them in a single storage transaction,
/// together with whatever <c>inSameTransaction</c> writes (the checkpoint and the lease renewal). Every job of the chunk
/// gets the same <c>parameters</c> (see <see cref="Execution.ItemJobParameters"/>), stored as Hangfire stores job
/// parameters.
/// </summary>
/// <remarks>
/// A writer may return before its chunk has committed, so that the next chunk is written while this one finishes; the
/// returned task completes once it has committed. Chunks commit in order: a chunk commits only after
/// <c>previousCommit</c> completed successfully, and if that failed, the chunk is rolled back and its task fails too.
/// </remarks>
internal interface IChunkWriter
{
    Task Write(
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<DispatchItem> chunk,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> inSameTransaction,
        Task previousCommit);
}
