using System.Diagnostics.CodeAnalysis;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// One batch of state changes of existing jobs, as an <see cref="IFanOutStateChangeWriter"/> is given it: the jobs whose
/// state it changes and the operation that changes them, through Hangfire's state machine with every filter, in one write
/// transaction of the connection it is given.
/// </summary>
[Experimental("FANOUT0001")]
public sealed class FanOutStateChanges
{
    private readonly Action<IStorageConnection> _apply;

    internal FanOutStateChanges(IStorageConnection connection, IReadOnlyList<string> jobIds, Action<IStorageConnection> apply)
    {
        Connection = connection;
        JobIds = jobIds;
        _apply = apply;
    }

    /// <summary>Gets a connection to the application's Hangfire storage, open until <see cref="IFanOutStateChangeWriter.Write"/> returns.</summary>
    public IStorageConnection Connection { get; }

    /// <summary>
    /// Gets the ids of the jobs whose state the batch changes; each is read (its data, state and parameters) once the batch
    /// holds its locks. Other jobs may change too in the same transaction (the waiting jobs the freed slots release).
    /// </summary>
    public IReadOnlyList<string> JobIds { get; }

    /// <summary>
    /// Takes the batch's locks, reads each job of <see cref="JobIds"/> on <paramref name="connection"/>, applies its new
    /// state through Hangfire's state machine in one write transaction opened on <paramref name="connection"/>, commits it,
    /// and lets the locks go. Called again, it starts afresh: nothing of an attempt whose commit failed is kept.
    /// </summary>
    /// <param name="connection">The connection to read the jobs and write on: <see cref="Connection"/>, or a writer's own.</param>
    public void Apply(IStorageConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _apply(connection);
    }
}
