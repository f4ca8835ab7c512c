using System.ComponentModel;
using Hangfire;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The Hangfire job that calls a run's completion handler. Its full name and method signature are a stored contract:
/// they never change once released. Not meant to be called directly. A handler that throws is retried by the
/// application's global Hangfire retry filter (<c>AutomaticRetryAttribute</c>, 10 attempts unless configured), like any
/// plain job.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FanOutCompletionJob
{
    private readonly ICompletionJobExecutor _executor;
    private readonly IServiceProvider _services;

    internal FanOutCompletionJob(ICompletionJobExecutor executor, IServiceProvider services)
    {
        _executor = executor;
        _services = services;
    }

    /// <summary>Calls the completion handler of a cron fan-out or event with the summary of a completed run.</summary>
    /// <param name="name">The cron fan-out id or event name whose handler to call.</param>
    /// <param name="runId">The completed run.</param>
    /// <param name="completion">Which completion of the run this is (1 the first time).</param>
    /// <param name="cancellationToken">Supplied by Hangfire; fires on server shutdown.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    [JobDisplayName("Completion of {0} (run {1})")]
    public Task RunAsync(string name, string runId, int completion, CancellationToken cancellationToken) =>
        _executor.RunAsync(new CompletionJobArgs(name, runId, completion), _services, cancellationToken);
}
