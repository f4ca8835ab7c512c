using FanOut.Hangfire.Telemetry;

namespace FanOut.Hangfire.Registration;

/// <summary>The registry's declarations as the public read model, built once; the warnings are read live.</summary>
internal sealed class FanOutCatalog(FanOutRegistry registry, FanOutWarnings warnings) : IFanOutCatalog
{
    private readonly Lazy<IReadOnlyList<FanOutCronInfo>> _crons = new(() =>
    [
        .. registry.Crons
            .OrderBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => new FanOutCronInfo(c.Id, c.EventName, c.Options, c.RecurringJobId, c.SourceType, registry.FindCompletionHandler(c.Id))),
    ]);

    private readonly Lazy<IReadOnlyList<FanOutEventInfo>> _events = new(() =>
    [
        .. registry.Events
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new FanOutEventInfo(
                e.Name,
                e.ItemType,
                [.. e.Handlers.Select(h => new FanOutHandlerInfo(h.Id, h.EventName, h.HandlerType, h.Options, h.Batch?.MaxSize))],
                registry.FindCompletionHandler(e.Name))),
    ]);

    public IReadOnlyList<FanOutCronInfo> CronFanOuts => _crons.Value;

    public IReadOnlyList<FanOutEventInfo> Events => _events.Value;

    public IReadOnlyList<FanOutWarning> Warnings => warnings.Current;
}
