using System.Collections.Concurrent;
using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// What one attempt of a batch job did, handed from the call to the state change that follows it in the same process
/// (the worker changes the job's state right after the call), so each item's outcome commits with that state change.
/// An attempt whose state change never comes (its job deleted meanwhile) is dropped after <see cref="MaxAge"/>; a state
/// change that finds no attempt (its process died in between) reads what is stored instead, and the attempt's items
/// are handed over again: Hangfire's at-least-once.
/// </summary>
internal static class BatchAttempts
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);

    private static readonly ConcurrentDictionary<(JobStorage Storage, string JobId), BatchAttempt> Pending = new();

    public static void Record(JobStorage storage, string jobId, BatchAttempt attempt)
    {
        if (Pending.Count > 1_000)
        {
            foreach (var stale in Pending.Where(p => attempt.At - p.Value.At > MaxAge.Ticks))
            {
                Pending.TryRemove(stale);
            }
        }

        Pending[(storage, jobId)] = attempt;
    }

    public static BatchAttempt? Take(JobStorage? storage, string jobId) =>
        storage is not null && Pending.TryRemove((storage, jobId), out var attempt) ? attempt : null;
}

/// <summary>
/// One attempt of a batch job: the items done before it, those it handled with success, and those that failed with why.
/// </summary>
/// <param name="DoneBefore">The places of the items that had succeeded in earlier attempts (not handed to this one).</param>
/// <param name="Succeeded">The places of the items this attempt handled with success.</param>
/// <param name="Failed">The places of the items this attempt failed, with their exceptions.</param>
/// <param name="At">When the attempt ended, in ticks of the process's clock.</param>
internal sealed record BatchAttempt(IReadOnlySet<int> DoneBefore, IReadOnlyList<int> Succeeded, IReadOnlyDictionary<int, Exception> Failed, long At)
{
    /// <summary>Whether the item at <paramref name="index"/> has succeeded, in this attempt or before.</summary>
    public bool IsDone(int index) => DoneBefore.Contains(index) || Succeeded.Contains(index);

    /// <summary>Whether anything of the job's items was stored before this attempt (<see cref="BatchProgress"/>).</summary>
    public bool HadProgress { get; init; }
}
