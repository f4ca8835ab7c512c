using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// Pauses and resumes cron fan-outs and handlers (<see cref="IFanOutControl"/>): the change is stored, seen at once by
/// this process and within <see cref="Pauses.RefreshInterval"/> by every other; a resumed handler's waiting jobs are
/// released by <c>Hosting.PauseMaintenance</c>, which this process's own resume wakes at once. Hangfire's storage API is
/// synchronous: the task completes once the change is stored.
/// </summary>
internal sealed class FanOutControl(FanOutRegistry registry, HangfireServices hangfire, PauseStore store, Pauses pauses) : IFanOutControl
{
    public Task<FanOutPause> PauseFanOutAsync(string fanOutId, CancellationToken cancellationToken = default) =>
        PauseAsync(CronOf(fanOutId), cancellationToken);

    public Task<bool> ResumeFanOutAsync(string fanOutId, CancellationToken cancellationToken = default) =>
        ResumeAsync(CronOf(fanOutId), cancellationToken);

    public Task<FanOutPause> PauseHandlerAsync(string handlerId, CancellationToken cancellationToken = default) =>
        PauseAsync(HandlerOf(handlerId), cancellationToken);

    public Task<bool> ResumeHandlerAsync(string handlerId, CancellationToken cancellationToken = default) =>
        ResumeAsync(HandlerOf(handlerId), cancellationToken);

    public Task<IReadOnlyList<FanOutPause>> GetPausedAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = hangfire.Storage.GetConnection();
        var members = PauseStore.Members(connection);
        var found = new List<FanOutPause>();
        foreach (var cron in registry.Crons.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            Add(FanOutPauseTarget.CronFanOut, cron.Id, StorageKeys.PausedCron(cron.Id), pauses.IsCronPausedByConfiguration(cron.Id));
        }

        foreach (var handler in registry.Handlers.OrderBy(h => h.Id, StringComparer.Ordinal))
        {
            Add(FanOutPauseTarget.Handler, handler.Id, StorageKeys.PausedHandler(handler.Id), pauses.IsHandlerPausedByConfiguration(handler.Id));
        }

        return Task.FromResult<IReadOnlyList<FanOutPause>>(found);

        void Add(FanOutPauseTarget target, string id, string member, bool byConfiguration)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stored = members.Contains(member);
            if (stored || byConfiguration)
            {
                found.Add(new FanOutPause(target, id, stored ? PauseStore.PausedAt(connection, member) : null, byConfiguration));
            }
        }
    }

    private Task<FanOutPause> PauseAsync(Target target, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var since = store.Pause(target.Member);
        pauses.Changed(target.Member, paused: true);
        return Task.FromResult(new FanOutPause(target.Kind, target.Id, since, target.ByConfiguration));
    }

    private Task<bool> ResumeAsync(Target target, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (target.ByConfiguration)
        {
            throw new InvalidOperationException(
                $"{target.What} is paused by configuration ({target.Setting}); set it to false to resume it. Nothing was changed.");
        }

        var resumed = store.Resume(target.Member);
        pauses.Changed(target.Member, paused: false);
        return Task.FromResult(resumed);
    }

    private Target CronOf(string fanOutId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fanOutId);
        var cron = registry.FindCron(fanOutId) ?? throw new ArgumentException(
            $"No cron fan-out '{fanOutId}' is declared (declared: {Listed(registry.Crons.Select(c => c.Id))}).", nameof(fanOutId));
        return new Target(
            FanOutPauseTarget.CronFanOut,
            cron.Id,
            StorageKeys.PausedCron(cron.Id),
            pauses.IsCronPausedByConfiguration(cron.Id),
            $"Cron fan-out '{cron.Id}'",
            $"FanOut:{ConfigurationOverrides.CronFanOutsSection}:{cron.Id}:Paused");
    }

    private Target HandlerOf(string handlerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(handlerId);
        var handler = registry.FindHandler(handlerId) ?? throw new ArgumentException(
            $"No handler '{handlerId}' is declared (declared: {Listed(registry.Handlers.Select(h => h.Id))}).", nameof(handlerId));
        return new Target(
            FanOutPauseTarget.Handler,
            handler.Id,
            StorageKeys.PausedHandler(handler.Id),
            pauses.IsHandlerPausedByConfiguration(handler.Id),
            $"Handler '{handler.Id}'",
            $"FanOut:{ConfigurationOverrides.HandlersSection}:{handler.Id}:Paused");
    }

    private static string Listed(IEnumerable<string> ids)
    {
        var list = string.Join(", ", ids.Order(StringComparer.Ordinal).Select(id => $"'{id}'"));
        return list.Length == 0 ? "none" : list;
    }

    /// <summary>A declared cron fan-out or handler, as a pause names it: its member of the paused set, and its setting.</summary>
    private sealed record Target(FanOutPauseTarget Kind, string Id, string Member, bool ByConfiguration, string What, string Setting);
}
