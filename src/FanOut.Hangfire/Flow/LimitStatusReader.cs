using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>Reads what each limit holds and how many wait, for <c>IFanOutRuns.GetLimitsAsync</c> and the dashboard.</summary>
internal sealed class LimitStatusReader(FanOutRegistry registry)
{
    private const int BusiestKeys = 5;

    // The keys with jobs waiting looked at for the busiest.
    private const int KeysLookedAt = 100;

    public IReadOnlyList<FanOutLimitStatus> Read(IStorageConnection connection, CancellationToken cancellationToken)
    {
        var storage = connection as JobStorageConnection;
        var found = new List<FanOutLimitStatus>();
        foreach (var limit in registry.Limits)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = limit.StorageId;
            var running = storage?.GetSetCount(StorageKeys.FlowRunning(id)) ?? 0;
            var waiting = storage?.GetSetCount(StorageKeys.FlowWaiting(id)) ?? 0;
            var keys = new List<FanOutLimitKeyStatus>();
            if (storage is not null && limit.ConcurrencyLimitPerKey is not null && waiting > 0)
            {
                foreach (var key in storage.GetRangeFromSet(StorageKeys.FlowWaitingKeys(id), 0, KeysLookedAt - 1))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    keys.Add(new FanOutLimitKeyStatus(
                        key,
                        storage.GetSetCount(StorageKeys.FlowRunningOfKey(id, key)),
                        storage.GetSetCount(StorageKeys.FlowWaitingOfKey(id, key))));
                }
            }

            found.Add(new FanOutLimitStatus(
                limit.Name,
                limit.Shared,
                [.. registry.Handlers.Where(h => h.Limit?.Budget.StorageId == id).Select(h => h.Id)],
                limit.ConcurrencyLimit,
                limit.ConcurrencyLimitPerKey,
                limit.ThrottlePermitLimit,
                limit.ThrottleWindow,
                limit.ThrottleBurst,
                limit.Describe(),
                running,
                waiting,
                [.. keys.OrderByDescending(k => k.Waiting).ThenBy(k => k.Key, StringComparer.Ordinal).Take(BusiestKeys)]));
        }

        return found;
    }
}
