using System.Diagnostics;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The job parameters the library reads and writes, beyond a job's arguments: a stored contract like them. One place, so
/// every dispatch path stores the same.
/// </summary>
internal static class JobParameters
{
    /// <summary>The run id a cron firing's dispatch job chose on its first attempt, so its retries continue the same run.</summary>
    public const string RunId = "FanOut.RunId";

    /// <summary>The dispatch's trace context (W3C traceparent), carried to every child job.</summary>
    public const string TraceParent = "FanOut.TraceParent";

    /// <summary>Hangfire's own count of a job's retries, which gives a call its attempt number.</summary>
    public const string RetryCount = "RetryCount";

    /// <summary>The prefix of the parameters holding what a handler logged, one per attempt (see <see cref="JobLogCodec"/>).</summary>
    public const string LogPrefix = "FanOut.Log.";

    private static readonly IReadOnlyDictionary<string, object?> None = new Dictionary<string, object?>();

    /// <summary>The parameter holding what a handler logged during one attempt: <c>FanOut.Log.{attempt}</c>, from 1.</summary>
    public static string Log(int attempt) => LogPrefix + attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The parameters every child job of a chunk gets: the dispatch's trace context, when it is traced.</summary>
    public static IReadOnlyDictionary<string, object?> ForChunk() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity
            ? new Dictionary<string, object?> { [TraceParent] = activity.Id }
            : None;
}
