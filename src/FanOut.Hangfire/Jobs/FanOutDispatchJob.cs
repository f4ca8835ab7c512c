using System.ComponentModel;
using Hangfire;
using Hangfire.Server;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The Hangfire job behind every cron fan-out firing and manual trigger. Its full name and method signature are a
/// stored contract: they never change once released. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FanOutDispatchJob
{
    private readonly IDispatchJobExecutor _executor;

    internal FanOutDispatchJob(IDispatchJobExecutor executor) => _executor = executor;

    /// <summary>Dispatches one run of a cron fan-out; the result shown in the dashboard says what was dispatched.</summary>
    /// <param name="fanOutId">The cron fan-out's id.</param>
    /// <param name="runId">The run id chosen by a manual trigger, or null for a cron firing (the id is assigned on first attempt).</param>
    /// <param name="context">Supplied by Hangfire.</param>
    /// <param name="cancellationToken">Supplied by Hangfire; fires on server shutdown.</param>
    /// <returns>A summary of the dispatch.</returns>
    [JobDisplayName("Fan-out {0}")]
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    [FanOutRetry]
    public Task<string> DispatchAsync(string fanOutId, string? runId, PerformContext? context, CancellationToken cancellationToken) =>
        _executor.DispatchAsync(new DispatchJobArgs(fanOutId, runId), context, cancellationToken);
}
