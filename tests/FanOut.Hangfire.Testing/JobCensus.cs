using FanOut.Hangfire.Jobs;
using Hangfire;
using Hangfire.Storage;
using Hangfire.Storage.Monitoring;

namespace FanOut.Hangfire.Testing;

/// <summary>Every child job the storage holds in any state, read back through Hangfire's monitoring API.</summary>
public sealed record ChildJob(string JobId, string State, string HandlerId, string RunId, string ItemKey, string? Queue);

public static class JobCensus
{
    /// <summary>
    /// Reads the state lists one after another, so a job changing state mid-read can be missed; reads again until two
    /// consecutive reads agree.
    /// </summary>
    public static IReadOnlyList<ChildJob> ChildJobs(JobStorage storage)
    {
        var previous = ReadOnce(storage);
        for (var i = 0; i < 50; i++)
        {
            var current = ReadOnce(storage);
            if (current.Select(j => (j.JobId, j.State)).OrderBy(j => j.JobId, StringComparer.Ordinal)
                .SequenceEqual(previous.Select(j => (j.JobId, j.State)).OrderBy(j => j.JobId, StringComparer.Ordinal)))
            {
                return current;
            }

            previous = current;
        }

        throw new InvalidOperationException("The jobs kept changing state while being counted.");
    }

    private static List<ChildJob> ReadOnce(JobStorage storage)
    {
        var api = storage.GetMonitoringApi();
        var jobs = new List<ChildJob>();
        const int page = 100_000;
        Add(jobs, "Succeeded", api.SucceededJobs(0, page).Select(j => (j.Key, j.Value.Job)));
        Add(jobs, "Failed", api.FailedJobs(0, page).Select(j => (j.Key, j.Value.Job)));
        Add(jobs, "Processing", api.ProcessingJobs(0, page).Select(j => (j.Key, j.Value.Job)));
        Add(jobs, "Scheduled", api.ScheduledJobs(0, page).Select(j => (j.Key, j.Value.Job)));
        Add(jobs, "Deleted", api.DeletedJobs(0, page).Select(j => (j.Key, j.Value.Job)));
        foreach (var queue in api.Queues())
        {
            Add(jobs, "Enqueued", api.EnqueuedJobs(queue.Name, 0, page).Select(j => (j.Key, j.Value.Job)));
        }

        return jobs;
    }

    /// <summary>The results of the dispatch jobs that succeeded, as the dashboard shows them.</summary>
    public static List<string> DispatchResults(JobStorage storage) =>
        storage.GetMonitoringApi().SucceededJobs(0, 1000)
            .Where(j => j.Value.Job?.Type == typeof(FanOutDispatchJob))
            .Select(j => (j.Value.Result?.ToString() ?? string.Empty).Trim('"'))
            .ToList();

    /// <summary>The ids of the jobs waiting for a slot of a limit (storage id: <c>handler:{id}</c> or <c>limit:{name}</c>), oldest first.</summary>
    public static IReadOnlyList<string> Waiting(JobStorage storage, string limit)
    {
        using var connection = (JobStorageConnection)storage.GetConnection();
        return connection.GetFirstByLowestScoreFromSet(FanOut.Hangfire.Storage.StorageKeys.FlowWaiting(limit), double.NegativeInfinity, double.PositiveInfinity, 100_000);
    }

    /// <summary>The members of the set of slots of a limit held now (job ids, and orphan records of calls still running).</summary>
    public static IReadOnlyCollection<string> Holding(JobStorage storage, string limit)
    {
        using var connection = storage.GetConnection();
        return connection.GetAllItemsFromSet(FanOut.Hangfire.Storage.StorageKeys.FlowRunning(limit));
    }

    public static string? StateOf(JobStorage storage, string jobId)
    {
        using var connection = storage.GetConnection();
        return connection.GetStateData(jobId)?.Name;
    }

    public static long Succeeded(JobStorage storage) => storage.GetMonitoringApi().SucceededListCount();

    public static StateHistoryDto[] History(JobStorage storage, string jobId) =>
        storage.GetMonitoringApi().JobDetails(jobId).History.ToArray();

    private static void Add(List<ChildJob> jobs, string state, IEnumerable<(string Id, global::Hangfire.Common.Job Job)> found)
    {
        foreach (var (id, job) in found)
        {
            if (ItemJobCodec.Instance.TryRead(job, out var args))
            {
                jobs.Add(new ChildJob(id, state, args.HandlerId, args.RunId, args.ItemKey, job.Queue));
            }
        }
    }
}
