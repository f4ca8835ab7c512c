namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The jobs that leave <see cref="FanOutWaitingState"/> from a limit's line in the state change under way on this flow of
/// execution, marked by the flow control that moves them (a release into a free slot, a throttled start come due). The
/// state's name does not tell a wait for a limit from a wait for a paused handler, and reading its data would cost a
/// read: an unmarked job leaving it leaves the paused handler's sets too (<see cref="RunOutcomesAttribute"/>), a marked
/// one only the limit's.
/// </summary>
internal static class LimitLineLeaves
{
    private static readonly AsyncLocal<HashSet<string>?> Marked = new();

    /// <summary>Marks <paramref name="jobId"/> until the result is disposed.</summary>
    public static IDisposable Mark(string jobId)
    {
        var marked = Marked.Value ??= new HashSet<string>(StringComparer.Ordinal);
        marked.Add(jobId);
        return new Unmark(marked, jobId);
    }

    public static bool IsMarked(string jobId) => Marked.Value?.Contains(jobId) == true;

    private sealed class Unmark(HashSet<string> marked, string jobId) : IDisposable
    {
        public void Dispose() => marked.Remove(jobId);
    }
}
