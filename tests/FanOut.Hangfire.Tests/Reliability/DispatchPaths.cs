namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// The two ways the library writes child jobs on PostgreSQL: <c>generic</c> (Hangfire's storage API) and
/// <c>postgresql</c> (the fast path of FanOut.Hangfire.PostgreSql, which logs its choice at the first dispatch).
/// </summary>
internal static class DispatchPaths
{
    public const string Generic = "generic";
    public const string PostgreSql = "postgresql";

    private const string FastPathChosen = "writes child jobs through the PostgreSQL fast path";
    private const string GenericChosen = "writes child jobs through the generic Hangfire path";
    private const string FastPathLeft = "leaves the PostgreSQL fast path";

    /// <summary>Checks from the hosts' lines that the dispatches took the path the test asked for, and only that one.</summary>
    public static void Verify(IReadOnlyCollection<string> hostLines, string dispatchPath)
    {
        if (dispatchPath == PostgreSql)
        {
            hostLines.Should().Contain(l => l.Contains(FastPathChosen, StringComparison.Ordinal), "the fast path was used, not a silent fallback");
            hostLines.Should().NotContain(l => l.Contains(GenericChosen, StringComparison.Ordinal) || l.Contains(FastPathLeft, StringComparison.Ordinal));
        }
        else
        {
            hostLines.Should().NotContain(l => l.Contains(FastPathChosen, StringComparison.Ordinal), "the generic path was used");
        }
    }
}
