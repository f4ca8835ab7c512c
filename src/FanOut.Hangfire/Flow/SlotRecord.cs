using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// What a job holding a slot says about it, in its one-member set <see cref="StorageKeys.FlowSlot"/>: the limit's storage
/// id and the concurrency key, as <c>{limit}|{key}</c> (limit ids never contain '|'; the key is the rest). An orphan
/// record, the slot of a call whose job was deleted or requeued while it ran, is <c>orphan|{jobId}|{serverId}|{key}</c>.
/// </summary>
internal static class SlotRecord
{
    private const string OrphanPrefix = "orphan|";

    public static string Of(string limit, string key) => limit + "|" + key;

    /// <summary>The slot the job holds, read from storage; null when it holds none.</summary>
    public static (string Limit, string Key)? Held(IStorageConnection connection, string jobId)
    {
        foreach (var member in connection.GetAllItemsFromSet(StorageKeys.FlowSlot(jobId)))
        {
            var bar = member.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0)
            {
                return (member[..bar], member[(bar + 1)..]);
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
