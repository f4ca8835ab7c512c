using FanOut.Hangfire.Registration;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// The span over which limits stay locked: from the first read of a limit's state until the transaction that changes
/// it has committed. A state change through Hangfire's state changer runs inside one (<see cref="FlowStateChanger"/>
/// opens it around the change, commit included), as does each dispatched chunk; scopes opened inside another join it.
/// It also knows the jobs whose state the library itself is setting, whose filters must not decide again.
/// </summary>
internal sealed class FlowScope : IDisposable
{
    private static readonly AsyncLocal<FlowScope?> Ambient = new();

    private readonly FlowLocks _locks;
    private readonly FlowScope? _outer;
    private readonly Dictionary<string, (IDisposable Lock, BudgetView View, IStorageConnection Connection)> _held = new(StringComparer.Ordinal);
    private readonly HashSet<string> _settingState = new(StringComparer.Ordinal);
    private int _depth = 1;

    private FlowScope(FlowLocks locks, FlowScope? outer)
    {
        _locks = locks;
        _outer = outer;
    }

    public static FlowScope? Current => Ambient.Value;

    /// <summary>Opens a scope, or joins the one already open on this flow of execution.</summary>
    public static FlowScope Enter(FlowLocks locks)
    {
        if (Ambient.Value is { } current)
        {
            current._depth++;
            return current;
        }

        var scope = new FlowScope(locks, null);
        Ambient.Value = scope;
        return scope;
    }

    /// <summary>
    /// Opens a scope of its own for a dispatched chunk, whose commit may finish after the chunk is written: the chunk
    /// <see cref="Detach"/>es it when written, and the dispatcher lets its locks go once the commit is done.
    /// </summary>
    public static FlowScope OpenForChunk(FlowLocks locks)
    {
        var scope = new FlowScope(locks, Ambient.Value);
        Ambient.Value = scope;
        return scope;
    }

    /// <summary>Stops being the ambient scope, keeping its locks until <see cref="ReleaseLocks"/>.</summary>
    public void Detach()
    {
        if (ReferenceEquals(Ambient.Value, this))
        {
            Ambient.Value = _outer;
        }
    }

    public void ReleaseLocks()
    {
        foreach (var (taken, _, connection) in _held.Values.Reverse())
        {
            try
            {
                connection.Dispose();
            }
            finally
            {
                taken.Dispose();
            }
        }

        _held.Clear();
    }

    /// <summary>The limit's state, taking its lock first if this scope does not hold it yet; reads go through a connection of the lock's own.</summary>
    public BudgetView View(RegisteredLimit limit, Func<IStorageConnection> connect, FlowOrder order)
    {
        if (_held.TryGetValue(limit.StorageId, out var held))
        {
            return held.View;
        }

        var taken = _locks.Acquire(limit.StorageId);
        IStorageConnection? connection = null;
        try
        {
            connection = connect();
            var view = new BudgetView(limit, connection as JobStorageConnection ?? throw new NotSupportedException(
                $"Limits need a Hangfire storage whose connection derives from JobStorageConnection (its extended API: set counts and ranges); {connection.GetType().Name} does not."), order);
            _held.Add(limit.StorageId, (taken, view, connection));
            return view;
        }
        catch
        {
            connection?.Dispose();
            taken.Dispose();
            throw;
        }
    }

    public IEnumerable<BudgetView> Views => _held.Values.Select(h => h.View);

    public bool IsSettingState(string jobId) => _settingState.Contains(jobId);

    /// <summary>Marks a job whose state the library sets now, so the limit filter lets that change through as it is.</summary>
    public IDisposable SettingState(string jobId)
    {
        _settingState.Add(jobId);
        return new Unmark(this, jobId);
    }

    public void Dispose()
    {
        if (--_depth > 0)
        {
            return;
        }

        Detach();
        ReleaseLocks();
    }

    private sealed class Unmark(FlowScope scope, string jobId) : IDisposable
    {
        public void Dispose() => scope._settingState.Remove(jobId);
    }
}
