using FanOut.Hangfire.Testing;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// How long a key's slot stays idle between one call and the next, from the handler's own records: each call's start is
/// matched to the earliest unmatched end of the same key before it (the slot that call freed), and the gap between the
/// two is one handover. Measured only on the calls that start after every other key has finished, when the key runs
/// alone and its handovers are all that bound it.
/// </summary>
internal sealed record Handovers(int Count, TimeSpan Median, TimeSpan P90)
{
    public static Handovers Of(IEnumerable<CallLog.Call> calls, string key, DateTimeOffset aloneFrom)
    {
        var ofKey = calls.Where(c => c.Key == key).ToList();
        var ends = new PriorityQueue<DateTimeOffset, DateTimeOffset>();
        var gaps = new List<TimeSpan>();
        foreach (var call in ofKey.OrderBy(c => c.Started))
        {
            // The oldest end before this start is the slot this call took.
            if (ends.TryPeek(out var freed, out _) && freed <= call.Started)
            {
                ends.Dequeue();
                if (call.Started >= aloneFrom)
                {
                    gaps.Add(call.Started - freed);
                }
            }

            ends.Enqueue(call.Ended, call.Ended);
        }

        if (gaps.Count == 0)
        {
            return new Handovers(0, TimeSpan.Zero, TimeSpan.Zero);
        }

        gaps.Sort();
        return new Handovers(gaps.Count, gaps[gaps.Count / 2], gaps[(int)Math.Min(gaps.Count - 1, Math.Ceiling(gaps.Count * 0.9) - 1)]);
    }
}
