using System.Globalization;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The members of a run's outcome sets: an item job's id, or, for each item of a batch job, <c>{jobId}#{index}</c>, so
/// every set counts items whatever kind of job holds them.
/// </summary>
internal static class OutcomeMembers
{
    private const char Separator = '#';

    public static string Of(string jobId, int index) => string.Create(CultureInfo.InvariantCulture, $"{jobId}{Separator}{index}");

    /// <summary>The job a member belongs to, and the item's place in it when it is a batch job's.</summary>
    public static (string JobId, int? Index) Parse(string member)
    {
        var at = member.LastIndexOf(Separator);
        return at > 0 && int.TryParse(member.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? (member[..at], index)
            : (member, null);
    }
}
