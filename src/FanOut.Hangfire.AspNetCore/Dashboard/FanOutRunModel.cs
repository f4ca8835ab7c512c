namespace FanOut.Hangfire.Dashboard;

/// <summary>What a run's page shows: the run with its counts, the limits of its handlers, and its failed items.</summary>
internal sealed record FanOutRunModel(
    DashboardServices Services,
    string RunId,
    FanOutRun? Run,
    HandlerLimits Limits,
    IReadOnlyList<FanOutFailedItem> FailedItems)
{
    /// <summary>Failed items listed on a run's page; the count above the list says how many there are in all.</summary>
    public const int FailedItemsShown = 100;

    public static async Task<FanOutRunModel> LoadAsync(DashboardServices services, string runId)
    {
        if (services.Runs is not { } runs)
        {
            return new FanOutRunModel(services, runId, null, HandlerLimits.None, []);
        }

        var run = await runs.GetAsync(runId, services.RequestAborted).ConfigureAwait(false);
        var failed = run is { Failed: > 0 }
            ? await runs.GetFailedItemsAsync(runId, FailedItemsShown, services.RequestAborted).ConfigureAwait(false)
            : [];
        var limits = run is null ? HandlerLimits.None : await HandlerLimits.ReadAsync(services).ConfigureAwait(false);
        return new FanOutRunModel(services, runId, run, limits, failed);
    }

    /// <summary>
    /// Whether the page counts the jobs waiting for a slot: some handler has a limit, or some job of the run still waits
    /// for one its handler no longer has.
    /// </summary>
    public bool ShowsWaiting => Limits.Any || Run?.Handlers.Any(h => h.Waiting > 0) == true;

    public FanOutHandlerInfo? FindHandler(string handlerId) =>
        Services.Catalog?.Events.SelectMany(e => e.Handlers).FirstOrDefault(h => h.Id == handlerId);
}
