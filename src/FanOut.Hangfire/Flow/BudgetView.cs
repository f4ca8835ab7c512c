using System.Globalization;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// One limit's state in storage, read and changed by the holder of its lock: the jobs holding its slots (globally and
/// per concurrency key), the jobs waiting (globally and per key, in arrival order), the keys whose turn is next, and the
/// throttle's next starts. What it reads is cached and kept up to date with what it writes, so the lock holder reads
/// each thing once; every write goes into the transaction it is given, which commits before the lock is let go. The
/// round of keys is written at <see cref="Flush"/>, once per key and change: a key put in the round and taken out again
/// in the same change (its slot freed, then filled) costs no write when it was not stored before.
/// </summary>
internal sealed class BudgetView
{
    private readonly JobStorageConnection _connection;
    private readonly FlowOrder _order;
    private readonly string _id;
    private readonly Dictionary<string, long> _runningOfKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScoredSetView> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _throttle = new(StringComparer.Ordinal);
    private readonly HashSet<string> _throttleChanged = new(StringComparer.Ordinal);

    // The round's changes not written yet: a key's new turn, or null to take it out of the round.
    private readonly Dictionary<string, long?> _readyChanges = new(StringComparer.Ordinal);
    private long? _running;
    private ScoredSetView? _readyKeys;

    public BudgetView(RegisteredLimit limit, JobStorageConnection connection, FlowOrder order)
    {
        Limit = limit;
        _connection = connection;
        _order = order;
        _id = limit.StorageId;
    }

    public RegisteredLimit Limit { get; }

    public JobStorageConnection Connection => _connection;

    /// <summary>Whether waiting jobs queue per concurrency key (round-robin across keys) or in one line.</summary>
    public bool Keyed => Limit.ConcurrencyLimitPerKey is not null;

    public long Running => _running ??= _connection.GetSetCount(StorageKeys.FlowRunning(_id));

    public long RunningOf(string key) =>
        Cached(_runningOfKey, key, k => _connection.GetSetCount(StorageKeys.FlowRunningOfKey(_id, k)));

    /// <summary>
    /// The key whose slot <paramref name="jobId"/> holds, or null (<see cref="SlotRecord.HeldKey"/>), with
    /// <paramref name="key"/> the one its item gives now (null when it gives none). The members read also count the
    /// key's slots (or the limit's), so the change that frees the slot reads no count of its own.
    /// </summary>
    public string? HeldKey(string jobId, string? key) => SlotRecord.HeldKey(Members, _id, Keyed, jobId, key);

    /// <summary>
    /// Whether a job waits with <paramref name="key"/> (any key when the limit is not keyed): the first page of its
    /// queue, which the release reads anyway, rather than a count of a set that can hold thousands.
    /// </summary>
    public bool HasWaiting(string key) => OldestWaiting(key) is not null;

    /// <summary>Whether a job of <paramref name="key"/> arriving now may take a slot at once: one is free and nobody waits ahead of it.</summary>
    public bool CanAdmit(string key)
    {
        if (Limit.ConcurrencyLimit is { } global && Running >= global)
        {
            return false;
        }

        return Keyed
            ? RunningOf(key) < Limit.ConcurrencyLimitPerKey!.Value && !HasWaiting(key)
            : !HasWaiting(string.Empty);
    }

    /// <summary>Whether a slot is free for someone, ignoring keys.</summary>
    public bool HasFreeSlot => Limit.ConcurrencyLimit is not { } global || Running < global;

    public void Admit(IWriteOnlyTransaction transaction, string jobId, string key)
    {
        AddMember(transaction, StorageKeys.FlowRunning(_id), SlotRecord.Of(jobId, key));
        _running = Running + 1;
        if (Keyed)
        {
            AddMember(transaction, StorageKeys.FlowRunningOfKey(_id, key), jobId);
            var running = RunningOf(key) + 1;
            _runningOfKey[key] = running;
            if (running >= Limit.ConcurrencyLimitPerKey!.Value && HasWaiting(key))
            {
                RemoveReadyKey(key);
            }
        }
    }

    /// <summary>Lets the slot of <paramref name="key"/> that <paramref name="jobId"/> holds go.</summary>
    public void Free(IWriteOnlyTransaction transaction, string jobId, string key) => Free(transaction, SlotRecord.Of(jobId, key), jobId, key);

    /// <summary>Lets the slot an orphan record holds for a call that has ended go.</summary>
    public void FreeOrphan(IWriteOnlyTransaction transaction, string orphan, string key) => Free(transaction, orphan, orphan, key);

    private void Free(IWriteOnlyTransaction transaction, string member, string keyMember, string key)
    {
        RemoveMember(transaction, StorageKeys.FlowRunning(_id), member);
        _running = Math.Max(0, Running - 1);
        if (Keyed)
        {
            RemoveMember(transaction, StorageKeys.FlowRunningOfKey(_id, key), keyMember);
            var running = RunningOf(key);
            _runningOfKey[key] = Math.Max(0, running - 1);
            if (running == Limit.ConcurrencyLimitPerKey!.Value && HasWaiting(key))
            {
                AppendReadyKey(key);
            }
        }
    }

    /// <summary>Moves a slot from a job to an orphan record: the job is gone from its call, but the call may still run.</summary>
    public void Orphan(IWriteOnlyTransaction transaction, string jobId, string key, string orphan, DateTimeOffset now)
    {
        RemoveMember(transaction, StorageKeys.FlowRunning(_id), SlotRecord.Of(jobId, key));
        AddMember(transaction, StorageKeys.FlowRunning(_id), orphan);
        if (Keyed)
        {
            RemoveMember(transaction, StorageKeys.FlowRunningOfKey(_id, key), jobId);
            AddMember(transaction, StorageKeys.FlowRunningOfKey(_id, key), orphan);
        }

        transaction.AddToSet(StorageKeys.FlowOrphans(_id), orphan, now.ToUnixTimeMilliseconds());
    }

    public void AddWaiting(IWriteOnlyTransaction transaction, string jobId, string key)
    {
        var sequence = _order.Next();
        transaction.AddToSet(StorageKeys.FlowWaiting(_id), jobId, sequence);
        if (!Keyed)
        {
            Queue(string.Empty).Append(jobId);
            return;
        }

        var first = !HasWaiting(key);
        transaction.AddToSet(StorageKeys.FlowWaitingOfKey(_id, key), jobId, sequence);
        Queue(key).Append(jobId);
        if (first)
        {
            transaction.AddToSet(StorageKeys.FlowWaitingKeys(_id), key);
            if (RunningOf(key) < Limit.ConcurrencyLimitPerKey!.Value)
            {
                AppendReadyKey(key);
            }
        }
    }

    public void RemoveWaiting(IWriteOnlyTransaction transaction, string jobId, string key)
    {
        transaction.RemoveFromSet(StorageKeys.FlowWaiting(_id), jobId);
        if (!Keyed)
        {
            Queue(string.Empty).Remove(jobId);
            return;
        }

        transaction.RemoveFromSet(StorageKeys.FlowWaitingOfKey(_id, key), jobId);
        Queue(key).Remove(jobId);
        if (!HasWaiting(key))
        {
            transaction.RemoveFromSet(StorageKeys.FlowWaitingKeys(_id), key);
            RemoveReadyKey(key);
        }
    }

    /// <summary>The key whose turn it is: the one served longest ago among those with jobs waiting and a slot of their own free.</summary>
    public string? NextReadyKey() => ReadyKeys.First();

    /// <summary>Puts a key just served at the back of the round (at the next <see cref="Flush"/>).</summary>
    public void Served(string key)
    {
        if (HasWaiting(key) && RunningOf(key) < Limit.ConcurrencyLimitPerKey!.Value)
        {
            AppendReadyKey(key);
        }
    }

    /// <summary>Takes a key out of the round (at the next <see cref="Flush"/>): it has nothing waiting, or its slots are full.</summary>
    public void RemoveReadyKey(string key)
    {
        _readyChanges[key] = null;
        ReadyKeys.Remove(key);
    }

    /// <summary>The oldest job waiting with <paramref name="key"/> (any key when the limit is not keyed).</summary>
    public string? OldestWaiting(string key) => Queue(Keyed ? key : string.Empty).First();

    /// <summary>
    /// Reserves the next start the throttle allows for <paramref name="throttleKey"/>, no earlier than
    /// <paramref name="now"/>: a generic cell rate, starts spaced by the throttle's interval with a burst tolerance.
    /// </summary>
    public DateTimeOffset ReserveStart(string throttleKey, DateTimeOffset now)
    {
        var interval = (long)Math.Ceiling(Limit.ThrottleInterval.TotalMilliseconds);
        var nowMs = now.ToUnixTimeMilliseconds();
        var field = ThrottleField(throttleKey);
        if (!_throttle.TryGetValue(field, out var theoretical))
        {
            var stored = _connection.GetValueFromHash(StorageKeys.FlowThrottle(_id), field);
            theoretical = long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? ms : nowMs;
        }

        if (Limit.ThrottleBurst == 1 && LastRelease(throttleKey) is { } last)
        {
            // A start released late pushes the next one back: releases of a key stay an interval apart.
            theoretical = Math.Max(theoretical, last.ToUnixTimeMilliseconds() + interval);
        }

        var (start, next) = CellRate.Reserve(theoretical, nowMs, interval, Limit.ThrottleBurst);
        _throttle[field] = next;
        _throttleChanged.Add(field);
        return DateTimeOffset.FromUnixTimeMilliseconds(start);
    }

    /// <summary>When a start of <paramref name="throttleKey"/> was last released (enqueued), if one was.</summary>
    public DateTimeOffset? LastRelease(string throttleKey)
    {
        var field = ReleaseField(throttleKey);
        if (!_throttle.TryGetValue(field, out var ms))
        {
            var stored = _connection.GetValueFromHash(StorageKeys.FlowThrottle(_id), field);
            if (!long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out ms))
            {
                return null;
            }

            _throttle[field] = ms;
        }

        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    /// <summary>Records that a start of <paramref name="throttleKey"/> was released (enqueued) at <paramref name="at"/>.</summary>
    public void Released(string throttleKey, DateTimeOffset at)
    {
        var field = ReleaseField(throttleKey);
        _throttle[field] = at.ToUnixTimeMilliseconds();
        _throttleChanged.Add(field);
    }

    /// <summary>Writes the round's changes and the throttle times changed since the last flush into <paramref name="transaction"/>.</summary>
    public void Flush(IWriteOnlyTransaction transaction)
    {
        foreach (var (key, turn) in _readyChanges)
        {
            if (turn is { } score)
            {
                transaction.AddToSet(StorageKeys.FlowReadyKeys(_id), key, score);
                ReadyKeys.Stored(key);
            }
            else if (!ReadyKeys.IsKnownAbsent(key))
            {
                transaction.RemoveFromSet(StorageKeys.FlowReadyKeys(_id), key);
            }
        }

        _readyChanges.Clear();

        if (_throttleChanged.Count > 0)
        {
            transaction.SetRangeInHash(
                StorageKeys.FlowThrottle(_id),
                _throttleChanged.Select(f => new KeyValuePair<string, string>(f, _throttle[f].ToString(CultureInfo.InvariantCulture))).ToList());
            _throttleChanged.Clear();
        }
    }

    // A hash field cannot be empty on every storage: the whole limit's next start is the field "*", a key's "k:{key}";
    // the last release, "r" and "r:{key}".
    private static string ThrottleField(string key) => key.Length == 0 ? "*" : "k:" + key;

    private static string ReleaseField(string key) => key.Length == 0 ? "r" : "r:" + key;

    private ScoredSetView ReadyKeys => _readyKeys ??= new ScoredSetView(_connection, StorageKeys.FlowReadyKeys(_id));

    private void AppendReadyKey(string key)
    {
        _readyChanges[key] = _order.Next();
        ReadyKeys.Append(key);
    }

    private ScoredSetView Queue(string key)
    {
        if (!_queues.TryGetValue(key, out var queue))
        {
            queue = new ScoredSetView(_connection, Keyed ? StorageKeys.FlowWaitingOfKey(_id, key) : StorageKeys.FlowWaiting(_id));
            _queues.Add(key, queue);
        }

        return queue;
    }

    // The members of one of the limit's running sets, read once; the counts follow from them when not read yet.
    private HashSet<string> Members(string set)
    {
        if (!_members.TryGetValue(set, out var members))
        {
            members = new HashSet<string>(_connection.GetAllItemsFromSet(set), StringComparer.Ordinal);
            _members.Add(set, members);
            if (set == StorageKeys.FlowRunning(_id))
            {
                _running ??= members.Count;
            }
            else
            {
                _runningOfKey.TryAdd(set[StorageKeys.FlowRunningOfKey(_id, string.Empty).Length..], members.Count);
            }
        }

        return members;
    }

    private void AddMember(IWriteOnlyTransaction transaction, string set, string member)
    {
        transaction.AddToSet(set, member);
        if (_members.TryGetValue(set, out var members))
        {
            members.Add(member);
        }
    }

    private void RemoveMember(IWriteOnlyTransaction transaction, string set, string member)
    {
        transaction.RemoveFromSet(set, member);
        if (_members.TryGetValue(set, out var members))
        {
            members.Remove(member);
        }
    }

    private static long Cached(Dictionary<string, long> cache, string key, Func<string, long> load)
    {
        if (!cache.TryGetValue(key, out var value))
        {
            value = load(key);
            cache.Add(key, value);
        }

        return value;
    }
}
