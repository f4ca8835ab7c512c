using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Guards each chunk commit of a dispatch: before the commit it checks the dispatch may still write (its lease is still
/// its own), and it adds its own writes (the lease's renewal) to the chunk's transaction.
/// </summary>
internal interface ICommitGuard
{
    /// <summary>Throws when the dispatch may no longer commit.</summary>
    void EnsureHeld();

    /// <summary>Writes what must commit with every chunk.</summary>
    void Write(IWriteOnlyTransaction transaction);
}
