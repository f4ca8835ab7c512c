namespace FanOut.Hangfire.Dashboard;

/// <summary>What a run's page shows: the run with its counts and its failed items.</summary>
internal sealed record FanOutRunModel(
    DashboardServices Services,
    string RunId,
    FanOutRun? Run,
    IReadOnlyList<FanOutFailedItem> FailedItems)
{
    /// <summary>Failed items listed on a run's page; the count above the list says how many there are in all.</summary>
    public const int FailedItemsShown = 100;

    public static async Task<FanOutRunModel> LoadAsync(DashboardServices services, string runId)
    {
        if (services.Runs is not { } runs)
        {
            return new FanOutRunModel(services, runId, null, []);
        }

        var run = await runs.GetAsync(runId, services.RequestAborted).ConfigureAwait(false);
        var failed = run is { Failed: > 0 }
            ? await runs.GetFailedItemsAsync(runId, FailedItemsShown, services.RequestAborted).ConfigureAwait(false)
            : [];
        return new FanOutRunModel(services, runId, run, failed);
    }

    public FanOutHandlerInfo? FindHandler(string handlerId) =>
        Services.Catalog?.Events.SelectMany(e => e.Handlers).FirstOrDefault(h => h.Id == handlerId);
}
