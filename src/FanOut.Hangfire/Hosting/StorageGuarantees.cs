using System.Globalization;
using FanOut.Hangfire.Telemetry;
using Hangfire;
using Hangfire.Storage;

namespace FanOut.Hangfire.Hosting;

/// <summary>
/// The guarantees a configured storage cannot hold, found by running the storage matrix and said at start-up, so a
/// weaker guarantee is never silent. The core references no storage package: it reads features and, for
/// Hangfire.InMemory, its public options by name.
/// </summary>
internal static class StorageGuarantees
{
    internal const string JobQueueKey = "storage:job-queue";
    internal const string RetentionKey = "storage:retention";

    private const string InMemoryStorageType = "Hangfire.InMemory.InMemoryStorage";

    /// <summary>Raises a warning for each guarantee <paramref name="storage"/> changes.</summary>
    public static void Check(JobStorage storage, FanOutOptions options, FanOutWarnings warnings)
    {
        var name = storage.GetType().FullName ?? storage.GetType().Name;
        if (!storage.HasFeature(JobStorageFeatures.JobQueueProperty))
        {
            warnings.Raise(
                JobQueueKey,
                $"Storage {name} does not store a job's queue (JobStorageFeatures.JobQueueProperty): a handler job that is " +
                "retried, or requeued by RetryFailedAsync, runs on the 'default' queue instead of its handler's Queue, so " +
                "the 'default' queue must be served wherever handlers run.");
        }

        if (MaxExpiration(storage) is { } cap && (cap < options.RunRetention || cap < options.IdempotencyWindow))
        {
            var retention = cap < options.RunRetention
                ? $"run records, their counts and failed items are kept for {Format(cap)}, not FanOutOptions.RunRetention " +
                  $"({Format(options.RunRetention)}); IFanOutRuns and the dashboard forget a run after that."
                : string.Empty;
            var idempotency = cap < options.IdempotencyWindow
                ? $"{(retention.Length > 0 ? " " : string.Empty)}Idempotency keys are remembered for {Format(cap)}, not " +
                  $"FanOutOptions.IdempotencyWindow ({Format(options.IdempotencyWindow)}): a send repeated after that starts a new run."
                : string.Empty;
            warnings.Raise(
                RetentionKey,
                $"Storage {name} caps every expiration at {Format(cap)} (InMemoryStorageOptions.MaxExpirationTime): {retention}{idempotency}");
        }
    }

    // Hangfire.InMemory applies MaxExpirationTime (3 hours by default) to every expiring key; null means no cap.
    private static TimeSpan? MaxExpiration(JobStorage storage)
    {
        var type = storage.GetType();
        if (type.FullName != InMemoryStorageType)
        {
            return null;
        }

        var storageOptions = type.GetProperty("Options")?.GetValue(storage);
        return storageOptions?.GetType().GetProperty("MaxExpirationTime")?.GetValue(storageOptions) as TimeSpan?;
    }

    private static string Format(TimeSpan span) => span.ToString("c", CultureInfo.InvariantCulture);
}
