using Hangfire.Storage;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Guards each chunk commit of a dispatch: entered around the commit, it makes sure the dispatch may still write (its
/// lease is still its own), and adds its own writes to the chunk's transaction.
/// </summary>
internal interface ICommitGuard
{
    /// <summary>Checks the dispatch may commit and holds that true until disposed; throws when it may not.</summary>
    IDisposable Enter();

    /// <summary>Writes what must commit with every chunk.</summary>
    void Write(IWriteOnlyTransaction transaction);
}
