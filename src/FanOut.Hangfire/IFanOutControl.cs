namespace FanOut.Hangfire;

/// <summary>
/// Pauses and resumes cron fan-outs and handlers without a deploy. A pause is kept in Hangfire's storage, so every
/// server of the application honours it and it survives restarts; configuration (<c>FanOut:CronFanOuts:{id}:Paused</c>,
/// <c>FanOut:Handlers:{id}:Paused</c>) can pause too, and a fan-out or handler is paused when either says so.
/// </summary>
/// <remarks>
/// A paused cron fan-out's firings are recorded as skipped runs (<see cref="FanOutRun.SkipReason"/> <c>paused</c>) and
/// dispatch nothing; a manual <see cref="IFanOutClient.TriggerAsync(string, CancellationToken)"/> still runs, which is how a missed firing is run
/// later. A paused handler's jobs are dispatched but wait in storage (on no worker, not failed; counted in
/// <see cref="FanOutHandlerProgress.Paused"/>), jobs already enqueued wait when a worker fetches them, and retries that
/// come due wait too; a call already running when the pause lands runs to its end. After a resume the waiting jobs run
/// oldest first, under the handler's limits if it has any. Every server sees a pause or a resume within about a second
/// (each keeps what is paused in memory and reads it again every second); the server that makes the change sees it at once.
/// </remarks>
public interface IFanOutControl
{
    /// <summary>Pauses a cron fan-out: its firings are skipped and recorded as such until it is resumed.</summary>
    /// <param name="fanOutId">A declared cron fan-out's id.</param>
    /// <param name="cancellationToken">Cancels the call before it writes.</param>
    /// <returns>The pause, with when it began (the first pause's time when it was paused already).</returns>
    /// <exception cref="ArgumentException">No cron fan-out has this id; the message lists the declared ones.</exception>
    Task<FanOutPause> PauseFanOutAsync(string fanOutId, CancellationToken cancellationToken = default);

    /// <summary>Resumes a cron fan-out paused with <see cref="PauseFanOutAsync"/>; its next firing dispatches again.</summary>
    /// <param name="fanOutId">A declared cron fan-out's id.</param>
    /// <param name="cancellationToken">Cancels the call before it writes.</param>
    /// <returns>Whether it was paused (false: nothing to resume).</returns>
    /// <exception cref="ArgumentException">No cron fan-out has this id; the message lists the declared ones.</exception>
    /// <exception cref="InvalidOperationException">Configuration pauses it; only a change of configuration resumes it.</exception>
    Task<bool> ResumeFanOutAsync(string fanOutId, CancellationToken cancellationToken = default);

    /// <summary>Pauses a handler: its jobs wait, in storage and on no worker, until it is resumed.</summary>
    /// <param name="handlerId">A declared handler's id.</param>
    /// <param name="cancellationToken">Cancels the call before it writes.</param>
    /// <returns>The pause, with when it began (the first pause's time when it was paused already).</returns>
    /// <exception cref="ArgumentException">No handler has this id; the message lists the declared ones.</exception>
    Task<FanOutPause> PauseHandlerAsync(string handlerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resumes a handler paused with <see cref="PauseHandlerAsync"/>. Its waiting jobs are released oldest first, in the
    /// background, starting two seconds later (when every server has read the resume): this returns once the pause is
    /// lifted, not once every job has run.
    /// </summary>
    /// <param name="handlerId">A declared handler's id.</param>
    /// <param name="cancellationToken">Cancels the call before it writes.</param>
    /// <returns>Whether it was paused (false: nothing to resume).</returns>
    /// <exception cref="ArgumentException">No handler has this id; the message lists the declared ones.</exception>
    /// <exception cref="InvalidOperationException">Configuration pauses it; only a change of configuration resumes it.</exception>
    Task<bool> ResumeHandlerAsync(string handlerId, CancellationToken cancellationToken = default);

    /// <summary>Gets every cron fan-out and handler that is paused now, by storage or by configuration.</summary>
    /// <param name="cancellationToken">Stops the read between two storage calls.</param>
    /// <returns>The pauses: cron fan-outs first, then handlers, each in id order; empty when nothing is paused.</returns>
    Task<IReadOnlyList<FanOutPause>> GetPausedAsync(CancellationToken cancellationToken = default);
}
