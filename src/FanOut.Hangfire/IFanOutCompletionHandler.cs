namespace FanOut.Hangfire;

/// <summary>
/// Called once per completion of a run of the cron fan-out or event it is registered for, as its own Hangfire job.
/// Resolved from dependency injection in a scope per call.
/// </summary>
public interface IFanOutCompletionHandler
{
    /// <summary>Handles a completed run.</summary>
    /// <param name="completion">The run's summary: counts, duration, failed items, and whether it is a re-completion.</param>
    /// <param name="cancellationToken">Fires when the Hangfire server shuts down.</param>
    /// <returns>A task that completes when the completion is handled.</returns>
    Task OnCompletedAsync(FanOutCompletion completion, CancellationToken cancellationToken);
}
