using System.Globalization;
using FanOut.Hangfire.Jobs;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>Reads back what handlers logged, from the job parameters <c>FanOut.Log.{attempt}</c> (<see cref="JobLogCodec"/>).</summary>
internal static class JobLogReader
{
    /// <summary>Every attempt's log of a job, first attempt first: the attempts run so far are Hangfire's retry count plus one.</summary>
    public static IReadOnlyList<FanOutJobLog> All(IStorageConnection connection, string jobId, CancellationToken cancellationToken = default)
    {
        var logs = new List<FanOutJobLog>();
        for (var attempt = 1; attempt <= LastAttempt(connection, jobId); attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Read(connection, jobId, attempt) is { } log)
            {
                logs.Add(log);
            }
        }

        return logs;
    }

    /// <summary>The log of a job's last attempt, or null when it logged nothing kept.</summary>
    public static FanOutJobLog? Last(IStorageConnection connection, string jobId) => Read(connection, jobId, LastAttempt(connection, jobId));

    private static FanOutJobLog? Read(IStorageConnection connection, string jobId, int attempt) =>
        JobLogCodec.Decode(jobId, attempt, connection.GetJobParameter(jobId, JobParameters.Log(attempt)));

    // Hangfire stores the count as JSON: a bare number.
    private static int LastAttempt(IStorageConnection connection, string jobId) =>
        (int.TryParse(connection.GetJobParameter(jobId, JobParameters.RetryCount), NumberStyles.Integer, CultureInfo.InvariantCulture, out var retries) ? Math.Max(0, retries) : 0) + 1;
}
