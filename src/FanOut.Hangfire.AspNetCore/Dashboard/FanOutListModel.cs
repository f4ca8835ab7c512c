using Hangfire;
using Hangfire.Storage;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// What the Fan-out list page shows: the declared fan-outs and events, their schedules, the limits their handlers draw
/// on, and recent runs.
/// </summary>
internal sealed record FanOutListModel(
    DashboardServices Services,
    IReadOnlyList<FanOutListModel.CronRow> Crons,
    IReadOnlyList<FanOutEventInfo> Events,
    HandlerLimits Limits,
    IReadOnlyList<FanOutRun> RecentRuns,
    string? Name,
    IReadOnlyList<FanOutPause>? Pauses = null)
{
    /// <summary>Runs read per cron fan-out and event on the overview; a single fan-out or event shows more.</summary>
    public const int RunsPerName = 10;

    public const int RunsOfOneName = 100;

    public static async Task<FanOutListModel> LoadAsync(DashboardServices services, JobStorage storage, string? name)
    {
        var catalog = services.Catalog;
        if (catalog is null)
        {
            return new FanOutListModel(services, [], [], HandlerLimits.None, [], name);
        }

        var crons = ReadSchedules(catalog, storage);
        if (services.Runs is not null)
        {
            crons = await WithLastTriggersAsync(services, crons).ConfigureAwait(false);
        }

        var limits = await HandlerLimits.ReadAsync(services).ConfigureAwait(false);
        var runs = services.Runs is null ? [] : await ReadRunsAsync(services, catalog, name).ConfigureAwait(false);
        var pauses = services.Control is { } control ? await control.GetPausedAsync(services.RequestAborted).ConfigureAwait(false) : null;
        return new FanOutListModel(services, crons, catalog.Events, limits, runs, name, pauses);
    }

    /// <summary>The pause of a cron fan-out or handler, if it is paused.</summary>
    public FanOutPause? PauseOf(FanOutPauseTarget target, string id) =>
        Pauses?.FirstOrDefault(p => p.Target == target && string.Equals(p.Id, id, StringComparison.Ordinal));

    private static List<CronRow> ReadSchedules(IFanOutCatalog catalog, JobStorage storage)
    {
        var crons = catalog.CronFanOuts;
        using var connection = storage.GetReadOnlyConnection();
        var recurringJobs = connection.GetRecurringJobs(crons.Select(c => c.RecurringJobId))
            .Where(j => !j.Removed)
            .ToDictionary(j => j.Id, StringComparer.Ordinal);
        return [.. crons.Select(c => new CronRow(c, recurringJobs.GetValueOrDefault(c.RecurringJobId)))];
    }

    // A manual trigger fires no recurring job, so its time is read from the fan-out's recent runs (newest first): if
    // none of them is a trigger, every firing since the last trigger was the recurring job's, whose time Hangfire keeps.
    private static async Task<List<CronRow>> WithLastTriggersAsync(DashboardServices services, List<CronRow> crons)
    {
        var rows = new List<CronRow>(crons.Count);
        foreach (var row in crons)
        {
            var recent = await services.Runs!.ListAsync(row.Cron.Id, RunsPerName, services.RequestAborted).ConfigureAwait(false);
            rows.Add(row with { LastTriggeredAt = recent.FirstOrDefault(r => r.IsManualTrigger)?.TriggeredAt });
        }

        return rows;
    }

    private static async Task<List<FanOutRun>> ReadRunsAsync(DashboardServices services, IFanOutCatalog catalog, string? name)
    {
        // A cron fan-out's runs are listed under its id, an event's sends under the event name; the kind tells them apart.
        var sources = catalog.CronFanOuts.Select(c => (c.Id, Kind: FanOutRunKind.Cron))
            .Concat(catalog.Events.Select(e => (Id: e.Name, Kind: FanOutRunKind.Send)))
            .Where(s => name is null || string.Equals(s.Id, name, StringComparison.Ordinal))
            .ToList();
        var count = name is null ? RunsPerName : RunsOfOneName;

        var runs = new List<FanOutRun>();
        foreach (var (id, kind) in sources)
        {
            var listed = await services.Runs!.ListAsync(id, count, services.RequestAborted).ConfigureAwait(false);
            runs.AddRange(listed.Where(r => r.Kind == kind));
        }

        return [.. runs.DistinctBy(r => r.RunId).OrderByDescending(StartedAt)];
    }

    private static DateTimeOffset StartedAt(FanOutRun run) =>
        run.DispatchStartedAt ?? run.DispatchFinishedAt ?? DateTimeOffset.MinValue;

    /// <summary>
    /// A cron fan-out with the recurring job that fires it (missing when the fan-out is disabled), and when it was last
    /// triggered by hand, if one of its recent runs was.
    /// </summary>
    internal sealed record CronRow(FanOutCronInfo Cron, RecurringJobDto? RecurringJob, DateTimeOffset? LastTriggeredAt = null)
    {
        /// <summary>The last firing, by schedule (or Hangfire's "Trigger now") or by a manual trigger, whichever came last.</summary>
        public (DateTimeOffset? At, bool Manual) LastFiring
        {
            get
            {
                var scheduled = RecurringJob?.LastExecution is { } last ? new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)) : (DateTimeOffset?)null;
                return LastTriggeredAt is { } triggered && (scheduled is null || triggered > scheduled) ? (triggered, true) : (scheduled, false);
            }
        }
    }
}
