using System.Diagnostics;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Telemetry;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// What a child job does: finds its handler, builds the call's context, and calls the handler with the item read back
/// from its JSON, in a span that joins the dispatch's trace and a log scope naming the run, handler and item. What the
/// handler logs during the call is kept with the job's attempt (<see cref="JobLogCapture"/>).
/// </summary>
internal sealed partial class ItemExecutor(
    FanOutRegistry registry,
    RunningCalls calls,
    CancelledRuns cancelled,
    TimeProvider time,
    ILogger<ItemExecutor> logger) : IItemJobExecutor
{
    public async Task ExecuteAsync(ItemJobArgs args, IServiceProvider services, PerformContext? context, CancellationToken cancellationToken)
    {
        var (handlerId, runId, itemKey, itemJson) = (args.HandlerId, args.RunId, args.ItemKey, args.ItemJson);
        var handler = registry.FindHandler(handlerId) ?? throw new InvalidOperationException(
            $"No handler with the id '{handlerId}' is declared in this application, so item '{itemKey}' of run {runId} cannot run here. " +
            "Declare it with AddHandler on every server, or delete the job.");

        var fanOutContext = new FanOutContext(
            runId,
            handler.EventName,
            handlerId,
            itemKey,
            () => (context?.GetJobParameter<int>(JobParameters.RetryCount) ?? 0) + 1,
            context?.BackgroundJob.Id ?? string.Empty);

        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["FanOutEvent"] = handler.EventName,
            ["FanOutHandler"] = handlerId,
            ["FanOutRunId"] = runId,
            ["FanOutItemKey"] = itemKey,
        });
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogHandling(handlerId, itemKey, fanOutContext.Attempt);
        }

        // Reading the dispatch's trace context is a query per job; only a trace listener makes it worth one.
        var dispatchTrace = default(ActivityContext);
        if (FanOutTelemetry.Source.HasListeners())
        {
            ActivityContext.TryParse(context?.GetJobParameter<string>(JobParameters.TraceParent), null, out dispatchTrace);
        }

        using var activity = FanOutTelemetry.Source.StartActivity($"fanout.handle {handlerId}", ActivityKind.Consumer, dispatchTrace);
        activity?.SetTag("fanout.event", handler.EventName);
        activity?.SetTag("fanout.handler", handlerId);
        activity?.SetTag("fanout.run_id", runId);
        activity?.SetTag("fanout.item_key", itemKey);
        activity?.SetTag("fanout.attempt", fanOutContext.Attempt);

        // The call's token also fires when its run is cancelled, on whichever server cancels it.
        using var call = calls.Start(runId, cancellationToken);
        if (cancelled.IsCancelled(runId))
        {
            // Learnt of between the job's start and now: the cancel looked through the calls before this one was there.
            call.Cancel();
        }

        var capture = context is null ? null : JobLogCapture.For(registry.Options.JobLogs, time);
        try
        {
            using (capture?.Begin())
            {
                await handler.Invoker.InvokeAsync(services, itemJson, fanOutContext, call.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            if (capture is not null)
            {
                StoreLog(capture, context!, fanOutContext);
            }
        }
    }

    // Written through the worker's own connection, which serves nothing else while its job runs. A log that cannot be
    // stored never fails the call, nor hides its exception.
    private void StoreLog(JobLogCapture capture, PerformContext context, FanOutContext call)
    {
        if (capture.Close() is not { } stored)
        {
            return;
        }

        try
        {
            context.Connection.SetJobParameter(call.JobId, JobParameters.Log(call.Attempt), stored);
        }
        catch (Exception ex)
        {
            LogNotStored(ex, call.HandlerId, call.ItemKey, call.JobId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The log of handler {FanOutHandler} for item {FanOutItemKey} (job {JobId}) could not be stored")]
    private partial void LogNotStored(Exception exception, string fanOutHandler, string fanOutItemKey, string jobId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handler {FanOutHandler} handles item {FanOutItemKey}, attempt {Attempt}")]
    private partial void LogHandling(string fanOutHandler, string fanOutItemKey, int attempt);
}
