using System.ComponentModel;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire;

/// <summary>
/// The Hangfire job that calls a run's completion handler. Its full name and method signature are a stored contract:
/// they never change once released. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FanOutCompletionJob
{
    /// <summary>How many failed items a completion handler is told about, at most.</summary>
    internal const int FailedItemsShown = 1000;

    private readonly FanOutRegistry _registry;
    private readonly HangfireServices _hangfire;
    private readonly IServiceProvider _services;

    internal FanOutCompletionJob(FanOutRegistry registry, HangfireServices hangfire, IServiceProvider services)
    {
        _registry = registry;
        _hangfire = hangfire;
        _services = services;
    }

    /// <summary>Calls the completion handler of a cron fan-out or event with the summary of a completed run.</summary>
    /// <param name="name">The cron fan-out id or event name whose handler to call.</param>
    /// <param name="runId">The completed run.</param>
    /// <param name="completion">Which completion of the run this is (1 the first time).</param>
    /// <param name="cancellationToken">Supplied by Hangfire; fires on server shutdown.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    [JobDisplayName("Completion of {0} (run {1})")]
    public async Task RunAsync(string name, string runId, int completion, CancellationToken cancellationToken)
    {
        var handlerType = _registry.FindCompletionHandler(name) ?? throw new InvalidOperationException(
            $"No completion handler for '{name}' is declared in this application, so run {runId} cannot be reported here.");

        FanOutRun run;
        IReadOnlyList<FanOutFailedItem> failed;
        using (var connection = _hangfire.Storage.GetConnection())
        {
            var runs = _services.GetRequiredService<FanOutRuns>();
            run = runs.Read(connection, runId)
                ?? throw new InvalidOperationException($"Run {runId} of '{name}' has no record (it may have expired).");
            failed = runs.FailedItems(connection, runId, FailedItemsShown);
        }

        var handler = (IFanOutCompletionHandler)_services.GetRequiredService(handlerType);
        await handler.OnCompletedAsync(new FanOutCompletion(run, failed, completion), cancellationToken).ConfigureAwait(false);
    }
}
