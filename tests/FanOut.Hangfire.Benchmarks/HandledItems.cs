namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// Counts, in the process, the items the end-to-end scenario's handlers and jobs have handled and the calls they took. A
/// wait reads it while the run goes, so that only its last moments poll the storage: a count of a run's outcome set (or of
/// Hangfire's succeeded jobs) walks every member, and polling it all along would load the database the run is timed on.
/// </summary>
public sealed class HandledItems
{
    private long _items;
    private long _calls;

    /// <summary>Gets how many items were handled so far.</summary>
    public long Items => Interlocked.Read(ref _items);

    /// <summary>Gets how many calls (jobs run) handled them.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Records one call that handled <paramref name="items"/> items.</summary>
    public void Add(int items)
    {
        Interlocked.Add(ref _items, items);
        Interlocked.Increment(ref _calls);
    }
}
