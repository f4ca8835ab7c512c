using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Hangfire.States;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>Counts a run from its jobs' states; stands in for IFanOutRuns until the real one is registered.</summary>
public sealed class TemporaryCensusRuns(JobStorage storage, IBackgroundJobClient client) : IFanOutRuns
{
    public Task<IReadOnlyList<FanOutRun>> ListAsync(string name, int count = 20, CancellationToken cancellationToken = default)
    {
        if (name != DashboardServer.CronId)
        {
            return Task.FromResult<IReadOnlyList<FanOutRun>>([]);
        }

        var runIds = JobCensus.ChildJobs(storage).Select(j => j.RunId).Distinct().ToList();
        return Task.FromResult<IReadOnlyList<FanOutRun>>([.. runIds.Select(Read)]);
    }

    public Task<FanOutRun?> GetAsync(string runId, CancellationToken cancellationToken = default) =>
        Task.FromResult<FanOutRun?>(JobCensus.ChildJobs(storage).Any(j => j.RunId == runId) ? Read(runId) : null);

    public Task<IReadOnlyList<FanOutFailedItem>> GetFailedItemsAsync(string runId, int count = 100, CancellationToken cancellationToken = default)
    {
        var failed = storage.GetMonitoringApi().FailedJobs(0, 1000)
            .Where(j => j.Value.Job?.Type == typeof(FanOutItemJob) && (string)j.Value.Job.Args[1] == runId)
            .Select(j => new FanOutFailedItem((string)j.Value.Job.Args[0], (string)j.Value.Job.Args[2], j.Key, j.Value.ExceptionType, j.Value.ExceptionMessage, j.Value.FailedAt))
            .ToList();
        return Task.FromResult<IReadOnlyList<FanOutFailedItem>>(failed);
    }

    public Task<int> RetryFailedAsync(string runId, CancellationToken cancellationToken = default)
    {
        var failed = JobCensus.ChildJobs(storage).Where(j => j.RunId == runId && j.State == "Failed").ToList();
        return Task.FromResult(failed.Count(j => client.ChangeState(j.JobId, new EnqueuedState(), FailedState.StateName)));
    }

    private FanOutRun Read(string runId)
    {
        var jobs = JobCensus.ChildJobs(storage).Where(j => j.RunId == runId).ToList();
        var handlers = jobs.GroupBy(j => j.HandlerId).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new FanOutHandlerProgress(g.Key, g.Count(), g.Count(j => j.State == "Succeeded"), g.Count(j => j.State == "Failed"), g.Count(j => j.State == "Deleted")))
            .ToList();
        var done = handlers.All(h => h.InFlight == 0);
        var started = DateTimeOffset.UtcNow.AddSeconds(-5);
        return new FanOutRun(runId, FanOutRunKind.Cron, DashboardServer.CronId, DashboardServer.EventName,
            done ? FanOutRunStatus.Completed : FanOutRunStatus.Running, started, started.AddMilliseconds(1234),
            done ? DateTimeOffset.UtcNow : null, done ? 1 : 0, jobs.Count / Math.Max(1, handlers.Count), handlers);
    }
}
