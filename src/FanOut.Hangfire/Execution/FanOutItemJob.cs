using System.ComponentModel;
using System.Diagnostics;
using FanOut.Hangfire.Execution;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Telemetry;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire;

/// <summary>
/// The Hangfire job behind every (item, handler) pair. It stores the handler id and the item's JSON, never a user type
/// name; its full name and method signature are a stored contract that never changes once released. Not meant to be
/// called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed partial class FanOutItemJob
{
    private readonly FanOutRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly ILogger<FanOutItemJob> _logger;

    internal FanOutItemJob(FanOutRegistry registry, IServiceProvider services, ILogger<FanOutItemJob> logger)
    {
        _registry = registry;
        _services = services;
        _logger = logger;
    }

    /// <summary>Calls the handler with the item.</summary>
    /// <param name="handlerId">The handler's id.</param>
    /// <param name="runId">The run the item belongs to.</param>
    /// <param name="itemKey">The item's key.</param>
    /// <param name="itemJson">The item's JSON.</param>
    /// <param name="context">Supplied by Hangfire.</param>
    /// <param name="cancellationToken">Supplied by Hangfire; fires on server shutdown.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    [JobDisplayName("{0} · {2}")]
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    [FanOutRetry]
    [RunOutcomes]
    public async Task ExecuteAsync(
        string handlerId,
        string runId,
        string itemKey,
        string itemJson,
        PerformContext? context,
        CancellationToken cancellationToken)
    {
        var handler = _registry.FindHandler(handlerId) ?? throw new InvalidOperationException(
            $"No handler with the id '{handlerId}' is declared in this application, so item '{itemKey}' of run {runId} cannot run here. " +
            "Declare it with AddHandler on every server, or delete the job.");

        var fanOutContext = new FanOutContext(
            runId,
            handler.EventName,
            handlerId,
            itemKey,
            () => (context?.GetJobParameter<int>("RetryCount") ?? 0) + 1,
            context?.BackgroundJob.Id ?? string.Empty);

        using var scope = _logger.BeginScope(new Dictionary<string, object>
        {
            ["FanOutEvent"] = handler.EventName,
            ["FanOutHandler"] = handlerId,
            ["FanOutRunId"] = runId,
            ["FanOutItemKey"] = itemKey,
        });
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogHandling(handlerId, itemKey, fanOutContext.Attempt);
        }

        // Reading the dispatch's trace context is a query per job; only a trace listener makes it worth one.
        var dispatchTrace = default(ActivityContext);
        if (FanOutTelemetry.Source.HasListeners())
        {
            ActivityContext.TryParse(context?.GetJobParameter<string>(FanOutTelemetry.TraceParentParameter), null, out dispatchTrace);
        }

        using var activity = FanOutTelemetry.Source.StartActivity($"fanout.handle {handlerId}", ActivityKind.Consumer, dispatchTrace);
        activity?.SetTag("fanout.event", handler.EventName);
        activity?.SetTag("fanout.handler", handlerId);
        activity?.SetTag("fanout.run_id", runId);
        activity?.SetTag("fanout.item_key", itemKey);
        activity?.SetTag("fanout.attempt", fanOutContext.Attempt);
        try
        {
            await handler.Invoker.InvokeAsync(_services, itemJson, fanOutContext, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handler {FanOutHandler} handles item {FanOutItemKey}, attempt {Attempt}")]
    private partial void LogHandling(string fanOutHandler, string fanOutItemKey, int attempt);
}
