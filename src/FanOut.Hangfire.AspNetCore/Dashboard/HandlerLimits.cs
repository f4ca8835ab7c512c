namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The limits the application's handlers draw on, as <c>IFanOutRuns.GetLimitsAsync</c> read them for one request, with
/// the anchor of each on the Fan-out page, so the pages that name a limit link to the same row.
/// </summary>
internal sealed class HandlerLimits(IReadOnlyList<FanOutLimitStatus> limits)
{
    public static HandlerLimits None { get; } = new([]);

    public IReadOnlyList<FanOutLimitStatus> All => limits;

    public bool Any => limits.Count > 0;

    public static async Task<HandlerLimits> ReadAsync(DashboardServices services) =>
        services.Runs is { } runs
            ? new HandlerLimits(await runs.GetLimitsAsync(services.RequestAborted).ConfigureAwait(false))
            : None;

    /// <summary>The limit <paramref name="handlerId"/> draws on, if it has one.</summary>
    public FanOutLimitStatus? Of(string handlerId) =>
        limits.FirstOrDefault(l => l.HandlerIds.Contains(handlerId, StringComparer.Ordinal));

    /// <summary>The id of a limit's row: a handler's own limit and a shared one may have the same name.</summary>
    public static string AnchorOf(FanOutLimitStatus limit) => (limit.Shared ? "fanout-limit-shared-" : "fanout-limit-handler-") + limit.Name;
}
