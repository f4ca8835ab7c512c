namespace FanOut.Hangfire.Execution;

/// <summary>
/// The job parameters the library adds to every child job, beyond those Hangfire's client filters add. One place, so
/// every dispatch path stores the same.
/// </summary>
internal static class ItemJobParameters
{
    private static readonly IReadOnlyDictionary<string, object?> None = new Dictionary<string, object?>();

    public static IReadOnlyDictionary<string, object?> ForChunk() => None;
}
