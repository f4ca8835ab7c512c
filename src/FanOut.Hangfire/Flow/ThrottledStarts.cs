using System.Globalization;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// Keeps the calls of a throttled handler as far apart as the throttle allows, measured where it matters: when each call
/// starts, not when its job was released. The flow control spaces the releases; a released job then waits for a worker's
/// fetch and its Processing change, and that lag differs from one job to the next, so two calls of a key could start
/// closer than the interval. Each call reserves its start on the same generic cell rate as the releases, kept per key
/// (hash field <c>s:{key}</c>, or <c>s</c>) under a lock of its own (the limit's lock stays free for state changes), and
/// waits on its worker until that start: at most the difference between two lags, since the releases are already an
/// interval apart.
/// </summary>
internal sealed class ThrottledStarts(HangfireServices hangfire, FlowLocks locks, TimeProvider time)
{
    /// <summary>
    /// Waits until the call of <paramref name="job"/> may start under its handler's throttle; returns at once for a
    /// handler with none. Returns how long it waited.
    /// </summary>
    public async Task<TimeSpan> WaitTurnAsync(RegisteredHandler handler, ItemJobArgs job, CancellationToken cancellationToken)
    {
        if (handler.Limit is not { Budget.Throttles: true } limit)
        {
            return TimeSpan.Zero;
        }

        var key = string.Empty;
        if (limit.HasThrottleKey)
        {
            var keys = limit.KeysOf(handler.Id, job.ItemKey, job.ItemJson);
            if (keys.Problem is not null)
            {
                // Such a job fails at dispatch; one that got here by another way is not held back by a key it has not got.
                return TimeSpan.Zero;
            }

            key = keys.Throttle;
        }

        var wait = Reserve(limit.Budget, key);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }

        return wait;
    }

    private TimeSpan Reserve(RegisteredLimit budget, string key)
    {
        var interval = (long)Math.Ceiling(budget.ThrottleInterval.TotalMilliseconds);
        var hash = StorageKeys.FlowThrottle(budget.StorageId);
        var field = key.Length == 0 ? "s" : "s:" + key;
        using var held = locks.Acquire(StorageKeys.FlowStartsLockName(budget.StorageId));
        using var connection = (JobStorageConnection)hangfire.Storage.GetConnection();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var theoretical = long.TryParse(connection.GetValueFromHash(hash, field), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? ms : now;
        var (start, next) = CellRate.Reserve(theoretical, now, interval, budget.ThrottleBurst);
        using (var transaction = connection.CreateWriteTransaction())
        {
            transaction.SetRangeInHash(hash, [KeyValuePair.Create(field, next.ToString(CultureInfo.InvariantCulture))]);
            transaction.Commit();
        }

        return TimeSpan.FromMilliseconds(start - now);
    }
}
