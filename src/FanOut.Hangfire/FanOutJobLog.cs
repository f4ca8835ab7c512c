namespace FanOut.Hangfire;

/// <summary>What a handler logged during one attempt of a job (see <see cref="FanOutJobLogOptions"/>).</summary>
public sealed class FanOutJobLog
{
    internal FanOutJobLog(string jobId, int attempt, IReadOnlyList<FanOutLogEntry> entries, int droppedEntries)
    {
        JobId = jobId;
        Attempt = attempt;
        Entries = entries;
        DroppedEntries = droppedEntries;
    }

    /// <summary>Gets the id of the Hangfire job.</summary>
    public string JobId { get; }

    /// <summary>
    /// Gets the attempt, as <see cref="FanOutContext.Attempt"/> numbers it: 1 for the first, one more for each retry. A job
    /// requeued by hand after its retries ran out runs as the same attempt as its last, and its log replaces that one's.
    /// </summary>
    public int Attempt { get; }

    /// <summary>Gets the lines kept, oldest first: the last ones the attempt logged, within the limits of <see cref="FanOutJobLogOptions"/>.</summary>
    public IReadOnlyList<FanOutLogEntry> Entries { get; }

    /// <summary>Gets how many earlier lines were dropped to keep within those limits.</summary>
    public int DroppedEntries { get; }
}
