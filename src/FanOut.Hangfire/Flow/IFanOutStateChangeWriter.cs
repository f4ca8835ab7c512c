using System.Diagnostics.CodeAnalysis;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// Makes one batch of state changes of existing jobs (a cancelled run's jobs waiting for a slot of a limit, deleted many
/// at a time) in one storage transaction: the extensibility point through which a storage package sends such a batch in
/// fewer statements, as <c>IFanOutChunkWriter</c> does for a dispatched chunk. The default writer, used on every storage,
/// is Hangfire's own API:
/// <code>
/// changes.Apply(changes.Connection);
/// </code>
/// A storage package calls <see cref="FanOutStateChanges.Apply"/> on a connection of its own, which answers the reads of
/// the batch's jobs and records the writes of its transaction, and sends them to the database at the commit. Install one
/// by registering it as this service in place of the default; it is a singleton.
/// </summary>
/// <remarks>
/// The rules every writer keeps: the batch's writes commit in one storage transaction, or none of them does; and
/// <see cref="FanOutStateChanges.Apply"/> has committed (or failed) when <see cref="Write"/> returns, since the limit's
/// lock is let go then. A writer that cannot make a write of the batch must make its connection's commit fail with
/// nothing written; it may then call <see cref="FanOutStateChanges.Apply"/> again on <see cref="FanOutStateChanges.Connection"/>,
/// which starts the batch afresh.
/// </remarks>
[Experimental("FANOUT0001")]
public interface IFanOutStateChangeWriter
{
    /// <summary>Makes and commits one batch of state changes.</summary>
    /// <param name="changes">The batch.</param>
    void Write(FanOutStateChanges changes);
}
