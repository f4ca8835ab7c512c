using System.Globalization;
using Hangfire.States;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The state of a job over its limit: it waits in storage, on no worker and in no queue, until a call of its limit
/// ends and it is its turn (no <see cref="Due"/>), or until its throttled start is due (<see cref="Due"/> set; it then
/// already holds its concurrency slot), or until its handler is resumed (<see cref="Paused"/> set; it then holds no slot and
/// is in no limit's line). Not final: the job never expires while it waits. Its name and data are a stored contract.
/// </summary>
internal sealed class FanOutWaitingState : IState
{
    public const string StateName = "FanOutWaiting";

    public const string PausedField = "Paused";

    public FanOutWaitingState(string limit, string key, DateTimeOffset? due, string reason, string? paused = null)
    {
        Paused = paused;
        Limit = limit;
        Key = key;
        Due = due;
        Reason = reason;
    }

    public string Name => StateName;

    public string Reason { get; }

    public bool IsFinal => false;

    public bool IgnoreJobLoadException => false;

    /// <summary>The storage id of the limit the job waits for.</summary>
    public string Limit { get; }

    /// <summary>The job's concurrency key, or empty.</summary>
    public string Key { get; }

    /// <summary>When a throttled start is due; null while the job waits for a slot.</summary>
    public DateTimeOffset? Due { get; }

    /// <summary>The id of the paused handler the job waits for; null while it waits for a limit.</summary>
    public string? Paused { get; }

    public static bool IsWaiting(string? stateName) => string.Equals(stateName, StateName, StringComparison.OrdinalIgnoreCase);

    public static FanOutWaitingState ForSlot(string limitName, string limit, string key) =>
        new(limit, key, null, key.Length == 0
            ? $"Waiting for a slot of {limitName}"
            : $"Waiting for a slot of {limitName}, key {key}");

    public static FanOutWaitingState ForStart(string limitName, string limit, string key, string throttleKey, DateTimeOffset due) =>
        new(limit, key, due, throttleKey.Length == 0
            ? $"Throttled by {limitName}: starts at {due:O}"
            : $"Throttled by {limitName}, key {throttleKey}: starts at {due:O}");

    /// <summary>The state of a job whose handler is paused: it waits for the resume, holding nothing of any limit.</summary>
    public static FanOutWaitingState ForPause(string handlerId) =>
        new(string.Empty, string.Empty, null, $"Paused: handler {handlerId} is paused", handlerId);

    /// <summary>The paused handler a stored waiting state waits for, or null when it waits for a limit.</summary>
    public static string? PausedHandlerOf(IDictionary<string, string>? data) =>
        data is not null && data.TryGetValue(PausedField, out var handlerId) && handlerId.Length > 0 ? handlerId : null;

    public Dictionary<string, string> SerializeData()
    {
        var data = new Dictionary<string, string>(3, StringComparer.Ordinal)
        {
            ["Limit"] = Limit,
            ["Key"] = Key,
        };
        if (Paused is { } handlerId)
        {
            data[PausedField] = handlerId;
        }

        if (Due is { } due)
        {
            data["Due"] = due.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        return data;
    }

    /// <summary>Reads the data of a stored waiting state back: whether it is parked for a start, and its key.</summary>
    public static (string Key, DateTimeOffset? Due) Read(IDictionary<string, string>? data)
    {
        var key = data is not null && data.TryGetValue("Key", out var k) ? k : string.Empty;
        DateTimeOffset? due = data is not null && data.TryGetValue("Due", out var d) && long.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
        return (key, due);
    }
}
