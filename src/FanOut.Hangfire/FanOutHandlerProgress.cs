namespace FanOut.Hangfire;

/// <summary>How far one handler's jobs of a run got. Counts change in the same storage transaction as the job states they count.</summary>
public sealed class FanOutHandlerProgress
{
    internal FanOutHandlerProgress(
        string handlerId,
        long dispatched,
        long succeeded,
        long failed,
        long deleted,
        long waiting = 0,
        long paused = 0,
        long retrying = 0,
        DateTimeOffset? nextRetryAt = null)
    {
        Waiting = waiting;
        Paused = paused;
        Retrying = retrying;
        NextRetryAt = nextRetryAt;
        HandlerId = handlerId;
        Dispatched = dispatched;
        Succeeded = succeeded;
        Failed = failed;
        Deleted = deleted;
    }

    /// <summary>Gets the handler's id.</summary>
    public string HandlerId { get; }

    /// <summary>Gets how many jobs were dispatched to the handler (one per item).</summary>
    public long Dispatched { get; }

    /// <summary>Gets how many of them succeeded.</summary>
    public long Succeeded { get; }

    /// <summary>Gets how many failed with no retries left.</summary>
    public long Failed { get; }

    /// <summary>Gets how many were deleted.</summary>
    public long Deleted { get; }

    /// <summary>
    /// Gets how many wait for a slot of the handler's limit or for a throttled start (part of <see cref="InFlight"/>):
    /// in storage, on no worker.
    /// </summary>
    public long Waiting { get; }

    /// <summary>
    /// Gets how many wait because the handler is paused (part of <see cref="InFlight"/>, not of <see cref="Waiting"/>):
    /// in storage, on no worker, until the handler is resumed (<see cref="IFanOutControl"/>).
    /// </summary>
    public long Paused { get; }

    /// <summary>
    /// Gets how many failed an attempt and wait for their next one, scheduled by their retry policy (part of
    /// <see cref="InFlight"/>): in storage, on no worker, until <see cref="NextRetryAt"/> for the first of them.
    /// </summary>
    public long Retrying { get; }

    /// <summary>Gets when the earliest of the jobs waiting for a retry is due to run again, or null when none waits.</summary>
    public DateTimeOffset? NextRetryAt { get; }

    /// <summary>Gets how many are not in a final state yet: enqueued, processing, waiting to retry, waiting for a slot, or paused.</summary>
    public long InFlight => Math.Max(0, Dispatched - Succeeded - Failed - Deleted);
}
