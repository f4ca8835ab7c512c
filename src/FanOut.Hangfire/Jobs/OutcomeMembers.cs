using System.Globalization;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The members of a run's outcome sets: an item job's id, or a batch job's items, so every set counts items whatever
/// kind of job holds them. A batch job's items are one member <c>{jobId}#{first}-{last}</c> while all of them share a
/// state (one storage command however big the batch), and <c>{jobId}#{index}</c> each once some of them have an outcome
/// of their own.
/// </summary>
internal static class OutcomeMembers
{
    private const char Separator = '#';

    public static string Of(string jobId, int index) => string.Create(CultureInfo.InvariantCulture, $"{jobId}{Separator}{index}");

    /// <summary>Every item of a batch job of <paramref name="count"/> items, as one member.</summary>
    public static string All(string jobId, int count) =>
        count == 1 ? Of(jobId, 0) : string.Create(CultureInfo.InvariantCulture, $"{jobId}{Separator}0-{count - 1}");

    /// <summary>The job a member belongs to, and for a batch job's member, the places of the items it stands for.</summary>
    public static OutcomeMember Parse(string member)
    {
        var at = member.LastIndexOf(Separator);
        if (at > 0)
        {
            var places = member.AsSpan(at + 1);
            var dash = places.IndexOf('-');
            if (dash < 0 && Number(places) is { } index)
            {
                return new OutcomeMember(member[..at], index, index);
            }

            if (dash > 0 && Number(places[..dash]) is { } first && Number(places[(dash + 1)..]) is { } last && last >= first)
            {
                return new OutcomeMember(member[..at], first, last);
            }
        }

        return new OutcomeMember(member, null, null);
    }

    private static int? Number(ReadOnlySpan<char> text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>A member of a run's outcome set, read: its job, and the places of the batch items it stands for (null for an item job).</summary>
internal readonly record struct OutcomeMember(string JobId, int? First, int? Last)
{
    /// <summary>How many items the member stands for.</summary>
    public int Count => First is { } first && Last is { } last ? last - first + 1 : 1;

    /// <summary>The places of the batch items it stands for; none for an item job's member.</summary>
    public IEnumerable<int> Indices => First is { } first && Last is { } last ? Enumerable.Range(first, last - first + 1) : [];
}
