using System.Diagnostics;
using FanOut.Hangfire.Telemetry;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// The job parameters the library adds to every child job, beyond those Hangfire's client filters add. One place, so
/// every dispatch path stores the same.
/// </summary>
internal static class ItemJobParameters
{
    private static readonly IReadOnlyDictionary<string, object?> None = new Dictionary<string, object?>();

    /// <summary>The dispatch's trace context, when it is traced, so each child job's span joins the dispatch's trace.</summary>
    public static IReadOnlyDictionary<string, object?> ForChunk() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity
            ? new Dictionary<string, object?> { [FanOutTelemetry.TraceParentParameter] = activity.Id }
            : None;
}
