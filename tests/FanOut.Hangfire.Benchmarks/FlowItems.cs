using System.Globalization;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// The items of the flow scenario: N items over K keys, the first key holding half of them and the others sharing the
/// rest evenly. An item is "{key}-{n}", so <c>CallLog.KeyOf</c> reads its key back. The big key comes first in the
/// stream, then the small keys in turn: the order that tests whether the small keys are starved.
/// </summary>
internal sealed class FlowItems
{
    public FlowItems(int items, int keys)
    {
        if (keys < 2 || items < keys * 2)
        {
            throw new ArgumentException($"flow needs at least 2 keys and 2 items per key; {items} items over {keys} keys is not enough.");
        }

        var big = items / 2;
        var small = items - big;
        Counts = [big, .. Enumerable.Range(0, keys - 1).Select(k => small / (keys - 1) + (k < small % (keys - 1) ? 1 : 0))];
    }

    public static string BigKey => KeyName(0);

    /// <summary>The items of each key, the big key's first.</summary>
    public int[] Counts { get; }

    public int Total => Counts.Sum();

    public static string KeyName(int key) => "k" + key.ToString("D3", CultureInfo.InvariantCulture);

#pragma warning disable CS1998 // Made up on the fly; it only has to be a stream.
    public async IAsyncEnumerable<string> Stream()
#pragma warning restore CS1998
    {
        for (var i = 0; i < Counts[0]; i++)
        {
            yield return Item(0, i);
        }

        for (var i = 0; i < Counts.Skip(1).Max(); i++)
        {
            for (var key = 1; key < Counts.Length; key++)
            {
                if (i < Counts[key])
                {
                    yield return Item(key, i);
                }
            }
        }
    }

    /// <summary>
    /// The shortest time the limits allow, in calls of one duration each: the most rounds any group of keys needs. The m
    /// biggest keys together can run at most min(global, perKey × m) calls at once, so they need at least
    /// ceil(their items ÷ that) rounds; the largest of these over m = 1..K is the least number of rounds (a max-flow
    /// bound, which fair round-robin reaches). With every key at or above its limit, m = K gives the simple bound
    /// N ÷ min(global, Σ min(perKey, items of the key)).
    /// </summary>
    public long IdealRounds(int perKey, int global)
    {
        var sorted = Counts.OrderDescending().ToArray();
        long rounds = 0;
        long items = 0;
        for (var m = 1; m <= sorted.Length; m++)
        {
            items += sorted[m - 1];
            var slots = Math.Min((long)global, (long)perKey * m);
            rounds = Math.Max(rounds, (items + slots - 1) / slots);
        }

        return rounds;
    }

    /// <summary>The brief's simple bound: N calls over the slots the limits allow at once, min(global, Σ min(perKey, items of the key)).</summary>
    public double SimpleRounds(int perKey, int global) =>
        (double)Total / Math.Min(global, Counts.Sum(c => Math.Min(perKey, c)));

    private static string Item(int key, int n) => KeyName(key) + "-" + n.ToString("D6", CultureInfo.InvariantCulture);
}
