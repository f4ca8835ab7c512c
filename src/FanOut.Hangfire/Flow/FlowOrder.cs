namespace FanOut.Hangfire.Flow;

/// <summary>
/// The scores that order a limit's lines: a job's arrival in its waiting sets and a key's turn in the round of keys,
/// taken from the clock (Unix microseconds, exact in a set's double score) and strictly growing within a process. They
/// are taken under the limit's lock, so they follow the order of the changes across processes as far as the servers'
/// clocks agree, with no counter to read and write in every change.
/// </summary>
internal sealed class FlowOrder(TimeProvider time)
{
    private long _last;

    public long Next()
    {
        var now = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (TimeSpan.TicksPerMillisecond / 1000);
        while (true)
        {
            var last = Interlocked.Read(ref _last);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }
}
