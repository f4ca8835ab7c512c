using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// What is paused, as this process knows it: the pauses of configuration (fixed at start-up) and those stored, read from
/// storage on first use and again at every <see cref="Refresh"/> (every <see cref="RefreshInterval"/>, by
/// <c>Hosting.PauseMaintenance</c>), and changed at once by this process's own pauses and resumes. So the check a state
/// change makes costs no storage call, and a pause made anywhere holds on every server within about one interval.
/// </summary>
internal sealed class Pauses
{
    /// <summary>How often every process reads the stored pauses again: the bound on how late a server sees a change.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private readonly HangfireServices _hangfire;
    private readonly TimeProvider _time;
    private readonly HashSet<string> _configuredHandlers;
    private readonly HashSet<string> _configuredCrons;
    private readonly Lock _gate = new();
    private volatile Snapshot? _stored;

    public Pauses(FanOutRegistry registry, HangfireServices hangfire, TimeProvider time)
    {
        _hangfire = hangfire;
        _time = time;
        _configuredHandlers = registry.Handlers.Where(h => h.Options.Paused).Select(h => h.Id).ToHashSet(StringComparer.Ordinal);
        _configuredCrons = registry.Crons.Where(c => c.Options.Paused).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Raised when this process sees a handler resumed (its own resume, or one a refresh found), with its id.</summary>
    public event Action<string>? HandlerResumed;

    /// <summary>When the stored pauses were last read or changed by this process.</summary>
    public DateTimeOffset? LastRead { get; private set; }

    public bool IsHandlerPaused(string handlerId) =>
        _configuredHandlers.Contains(handlerId) || Stored.Handlers.Contains(handlerId);

    public bool IsCronPaused(string fanOutId) =>
        _configuredCrons.Contains(fanOutId) || Stored.Crons.Contains(fanOutId);

    /// <summary>Whether the cron fan-out is paused, read from storage now rather than from what this process last read.</summary>
    public bool IsCronPausedNow(IStorageConnection connection, string fanOutId) =>
        _configuredCrons.Contains(fanOutId) || PauseStore.Members(connection).Contains(StorageKeys.PausedCron(fanOutId));

    public bool IsHandlerPausedByConfiguration(string handlerId) => _configuredHandlers.Contains(handlerId);

    public bool IsCronPausedByConfiguration(string fanOutId) => _configuredCrons.Contains(fanOutId);

    public IReadOnlySet<string> ConfiguredHandlers => _configuredHandlers;

    public IReadOnlySet<string> ConfiguredCrons => _configuredCrons;

    /// <summary>Reads the stored pauses again; raises <see cref="HandlerResumed"/> for each handler no longer paused.</summary>
    public void Refresh()
    {
        Snapshot next;
        using (var connection = _hangfire.Storage.GetConnection())
        {
            next = Snapshot.Of(PauseStore.Members(connection));
        }

        Snapshot? before;
        lock (_gate)
        {
            before = _stored;
            _stored = next;
            LastRead = _time.GetUtcNow();
        }

        foreach (var handlerId in before?.Handlers.Except(next.Handlers) ?? [])
        {
            if (!_configuredHandlers.Contains(handlerId))
            {
                HandlerResumed?.Invoke(handlerId);
            }
        }
    }

    /// <summary>Records at once a change this process made in storage.</summary>
    public void Changed(string member, bool paused)
    {
        lock (_gate)
        {
            var members = new HashSet<string>(Stored.Members, StringComparer.Ordinal);
            if (paused)
            {
                members.Add(member);
            }
            else
            {
                members.Remove(member);
            }

            _stored = Snapshot.Of(members);
        }

        if (!paused && member.StartsWith(StorageKeys.PausedHandler(string.Empty), StringComparison.Ordinal))
        {
            HandlerResumed?.Invoke(member[StorageKeys.PausedHandler(string.Empty).Length..]);
        }
    }

    // Read on first use: a worker may fetch a job before the first refresh, and must not run a paused handler's job.
    private Snapshot Stored
    {
        get
        {
            if (_stored is { } stored)
            {
                return stored;
            }

            lock (_gate)
            {
                if (_stored is null)
                {
                    using var connection = _hangfire.Storage.GetConnection();
                    _stored = Snapshot.Of(PauseStore.Members(connection));
                }

                return _stored;
            }
        }
    }

    private sealed record Snapshot(IReadOnlySet<string> Members, HashSet<string> Handlers, HashSet<string> Crons)
    {
        public static Snapshot Of(IReadOnlySet<string> members) => new(
            members,
            IdsOf(members, StorageKeys.PausedHandler(string.Empty)),
            IdsOf(members, StorageKeys.PausedCron(string.Empty)));

        private static HashSet<string> IdsOf(IReadOnlySet<string> members, string prefix) =>
            members.Where(m => m.StartsWith(prefix, StringComparison.Ordinal)).Select(m => m[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
    }
}
