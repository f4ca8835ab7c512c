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
    public Task<FanOutPause> PauseFanOutAsync(string fanOutId, CancellationToken cancellationToken = default)
    {
        var cron = CronOf(fanOutId);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Pause(FanOutPauseTarget.CronFanOut, cron.Id, StorageKeys.PausedCron(cron.Id), pauses.IsCronPausedByConfiguration(cron.Id)));
    }

    public Task<bool> ResumeFanOutAsync(string fanOutId, CancellationToken cancellationToken = default)
    {
        var cron = CronOf(fanOutId);
        cancellationToken.ThrowIfCancellationRequested();
        if (pauses.IsCronPausedByConfiguration(cron.Id))
        {
            throw new InvalidOperationException(
                $"Cron fan-out '{cron.Id}' is paused by configuration (FanOut:CronFanOuts:{cron.Id}:Paused); set it to false to resume it. Nothing was changed.");
        }

        return Task.FromResult(Resume(StorageKeys.PausedCron(cron.Id)));
    }

    public Task<FanOutPause> PauseHandlerAsync(string handlerId, CancellationToken cancellationToken = default)
    {
        var handler = HandlerOf(handlerId);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Pause(FanOutPauseTarget.Handler, handler.Id, StorageKeys.PausedHandler(handler.Id), pauses.IsHandlerPausedByConfiguration(handler.Id)));
    }

    public Task<bool> ResumeHandlerAsync(string handlerId, CancellationToken cancellationToken = default)
    {
        var handler = HandlerOf(handlerId);
        cancellationToken.ThrowIfCancellationRequested();
        if (pauses.IsHandlerPausedByConfiguration(handler.Id))
        {
            throw new InvalidOperationException(
                $"Handler '{handler.Id}' is paused by configuration (FanOut:Handlers:{handler.Id}:Paused); set it to false to resume it. Nothing was changed.");
        }

        return Task.FromResult(Resume(StorageKeys.PausedHandler(handler.Id)));
    }

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

    private FanOutPause Pause(FanOutPauseTarget target, string id, string member, bool byConfiguration)
    {
        var since = store.Pause(member);
        pauses.Changed(member, paused: true);
        return new FanOutPause(target, id, since, byConfiguration);
    }

    private bool Resume(string member)
    {
        var resumed = store.Resume(member);
        pauses.Changed(member, paused: false);
        return resumed;
    }

    private RegisteredCron CronOf(string fanOutId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fanOutId);
        return registry.FindCron(fanOutId) ?? throw new ArgumentException(
            $"No cron fan-out '{fanOutId}' is declared (declared: {Listed(registry.Crons.Select(c => c.Id))}).", nameof(fanOutId));
    }

    private RegisteredHandler HandlerOf(string handlerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(handlerId);
        return registry.FindHandler(handlerId) ?? throw new ArgumentException(
            $"No handler '{handlerId}' is declared (declared: {Listed(registry.Handlers.Select(h => h.Id))}).", nameof(handlerId));
    }

    private static string Listed(IEnumerable<string> ids)
    {
        var list = string.Join(", ", ids.Order(StringComparer.Ordinal).Select(id => $"'{id}'"));
        return list.Length == 0 ? "none" : list;
    }
}
