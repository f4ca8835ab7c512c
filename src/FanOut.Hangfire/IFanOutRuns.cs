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
    /// Cancels a run: its dispatch stops before its next chunk and creates nothing more, its jobs that have not started
    /// (enqueued, scheduled, waiting for a retry or for a slot of a limit) are deleted, and the calls of its jobs running
    /// now, on any server, see their <see cref="CancellationToken"/> fire. Nothing of another run is touched. The run reads
    /// <see cref="FanOutRunStatus.Cancelled"/> at once, and completes (its completion handler told
    /// <see cref="FanOutCompletion.IsCancelled"/>) once its last call has ended. Calling it again is safe.
    /// </summary>
    /// <param name="runId">The run's id.</param>
    /// <param name="cancellationToken">Stops waiting for the deletion of the run's jobs; the run stays cancelled and every server finishes deleting them.</param>
    /// <returns>Whether the run was cancelled by this call, was already, or had completed, and how many jobs this call deleted.</returns>
    Task<FanOutCancelResult> CancelAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Requeues the jobs that failed with no retries left of every run of a cron fan-out or event that started in a time
    /// range, as <see cref="RetryFailedAsync"/> does for one run: each run with failed jobs reopens and completes again.
    /// </summary>
    /// <param name="name">A cron fan-out id, or an event name for its sends.</param>
    /// <param name="from">The start of the range, inclusive: when the run was triggered, fired or sent.</param>
    /// <param name="to">The end of the range, exclusive; not before <paramref name="from"/>.</param>
    /// <param name="cancellationToken">Cancels the requeue of the jobs not requeued yet.</param>
    /// <returns>How many runs started in the range, how many had jobs requeued, and how many jobs were.</returns>
    /// <remarks>
    /// The runs looked at are the ones <see cref="ListAsync"/> can list: the last 100 of the fan-out or event whose
    /// records have not expired. Only a job still failed is requeued, so two bulk retries at once requeue each job once.
    /// </remarks>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="to"/> is before <paramref name="from"/>.</exception>
    Task<FanOutBulkRetryResult> RetryFailedRunsAsync(string name, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

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
