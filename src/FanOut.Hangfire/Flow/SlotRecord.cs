using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// How a slot is recorded in a limit's sets. A job holding one is the member <c>{jobId}|{key}</c> of the limit's running
/// set (the concurrency key, empty for a limit without keys, is the rest: job ids never contain '|') and, for a limit per
/// key, the member <c>{jobId}</c> of its key's running set. So whether a job holds a slot, and of which key, is read from
/// the key's few members (or the limit's, without keys), with no record of its own to write, read and delete. An orphan
/// record, the slot of a call whose job was deleted or requeued while it ran, is <c>orphan|{jobId}|{serverId}|{key}</c>
/// in both sets.
/// </summary>
internal static class SlotRecord
{
    private const string OrphanPrefix = "orphan|";

    /// <summary>The member of the limit's running set for <paramref name="jobId"/> holding a slot of <paramref name="key"/>.</summary>
    public static string Of(string jobId, string key) => jobId + "|" + key;

    /// <summary>
    /// The key <paramref name="jobId"/> holds a slot of, or null when it holds none. Looked up among the members of its
    /// key's running set when the limit is keyed and the key is known (<paramref name="key"/>: the one computed from the
    /// item now), else, or when it is not there (a key function that gives another key than at admission), among the
    /// limit's own, whose member says the key held. <paramref name="membersOf"/> reads a set's members.
    /// </summary>
    public static string? HeldKey(Func<string, IReadOnlyCollection<string>> membersOf, string limit, bool keyed, string jobId, string? key)
    {
        if (keyed && key is not null && membersOf(StorageKeys.FlowRunningOfKey(limit, key)).Contains(jobId))
        {
            return key;
        }

        var prefix = jobId + "|";
        foreach (var member in membersOf(StorageKeys.FlowRunning(limit)))
        {
            if (member.StartsWith(prefix, StringComparison.Ordinal))
            {
                return member[prefix.Length..];
            }
        }

        return null;
    }

    public static string Orphan(string jobId, string serverId, string key) => $"{OrphanPrefix}{jobId}|{serverId.Replace('|', '/')}|{key}";

    public static bool TryReadOrphan(string member, out string jobId, out string serverId, out string key)
    {
        jobId = serverId = key = string.Empty;
        if (!member.StartsWith(OrphanPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = member[OrphanPrefix.Length..].Split('|', 3);
        if (parts.Length != 3)
        {
            return false;
        }

        (jobId, serverId, key) = (parts[0], parts[1], parts[2]);
        return true;
    }
}
