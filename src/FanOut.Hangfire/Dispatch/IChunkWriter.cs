using FanOut.Hangfire.Registration;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Creates the child jobs of one chunk (one per item and handler) and commits them in a single storage transaction,
/// together with whatever <c>inSameTransaction</c> writes (the checkpoint and the lease renewal). Every job of the chunk
/// gets the same <c>parameters</c> (see <see cref="Execution.ItemJobParameters"/>), stored as Hangfire stores job
/// parameters.
/// </summary>
internal interface IChunkWriter
{
    void Write(
        IStorageConnection connection,
        string runId,
        RegisteredEvent @event,
        IReadOnlyList<DispatchItem> chunk,
        IReadOnlyDictionary<string, object?> parameters,
        Action<IWriteOnlyTransaction> inSameTransaction);
}
