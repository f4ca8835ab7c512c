namespace FanOut.Hangfire;

/// <summary>Reads runs and their progress from Hangfire's storage, and retries a run's failed jobs.</summary>
/// <remarks>
/// Hangfire's storage API is synchronous: each method makes its storage calls before its task completes. The
/// cancellation token is checked before each call, so a cancelled read stops between two calls and throws
/// <see cref="OperationCanceledException"/>; a call under way is not interrupted.
/// </remarks>
public interface IFanOutRuns
{
    /// <summary>Lists the most recent runs of a cron fan-out or an event, newest first (up to the last 100 are kept).</summary>
    /// <param name="name">A cron fan-out id, or an event name for its sends.</param>
    /// <param name="count">How many runs to return, at most.</param>
    /// <param name="cancellationToken">Stops the read between two storage calls.</param>
    /// <returns>The runs, newest first; empty when there are none.</returns>
    Task<IReadOnlyList<FanOutRun>> ListAsync(string name, int count = 20, CancellationToken cancellationToken = default);

    /// <summary>Gets one run with its counts.</summary>
    /// <param name="runId">The run's id.</param>
    /// <param name="cancellationToken">Stops the read between two storage calls.</param>
    /// <returns>The run, or null when no run has this id (or its record expired).</returns>
    Task<FanOutRun?> GetAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Gets the jobs of a run that failed with no retries left, with their error messages and what their handler logged during the last attempt (<see cref="FanOutFailedItem.Log"/>).</summary>
    /// <param name="runId">The run's id.</param>
    /// <param name="count">How many to return, at most.</param>
    /// <param name="cancellationToken">Stops the read between two storage calls.</param>
    /// <returns>The failed items, oldest failure first.</returns>
    Task<IReadOnlyList<FanOutFailedItem>> GetFailedItemsAsync(string runId, int count = 100, CancellationToken cancellationToken = default);

    /// <summary>
    /// Requeues every job of the run that failed with no retries left. The run reopens; when those jobs end it completes
    /// again, and its completion handler is told it is a re-completion.
    /// </summary>
    /// <param name="runId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the requeue of the jobs not requeued yet.</param>
    /// <returns>How many jobs were requeued.</returns>
    Task<int> RetryFailedAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets every limit the application's handlers draw on, with how many calls hold its slots and how many jobs wait
    /// now, and its busiest keys.
    /// </summary>
    /// <param name="cancellationToken">Stops the read between two storage calls.</param>
    /// <returns>The limits, in declaration order of their first handler; empty when no handler has one.</returns>
    Task<IReadOnlyList<FanOutLimitStatus>> GetLimitsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets what a handler logged during each attempt of a job (see <see cref="FanOutJobLogOptions"/>), read from the
    /// job's parameters: the lines expire with the job.
    /// </summary>
    /// <param name="jobId">The Hangfire job's id, as <see cref="FanOutFailedItem.JobId"/> or <see cref="FanOutContext.JobId"/> give it.</param>
    /// <param name="cancellationToken">Stops the read between two storage calls.</param>
    /// <returns>One log per attempt that logged something kept, first attempt first; empty for a job that logged nothing, or is not a fan-out job, or expired.</returns>
    Task<IReadOnlyList<FanOutJobLog>> GetJobLogAsync(string jobId, CancellationToken cancellationToken = default);
}
