using System.Diagnostics;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Telemetry;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// What every handler call of a child job is wrapped in, for an item job and a batch job alike: a span that joins the
/// dispatch's trace, a log scope naming the run and handler, a token that also fires when the run is cancelled, the wait
/// for its start under a throttle (<see cref="ThrottledStarts"/>), and the capture of what the handler logs, kept with the
/// job's attempt (<see cref="JobLogCapture"/>).
/// </summary>
internal sealed partial class HandlerCalls(
    FanOutRegistry registry,
    RunningCalls calls,
    CancelledRuns cancelled,
    ThrottledStarts starts,
    TimeProvider time,
    ILogger<HandlerCalls> logger)
{
    /// <summary>The declared handler of a stored job, or an exception naming it and what the job holds.</summary>
    public RegisteredHandler Find(string handlerId, string runId, string what, bool batch)
    {
        var handler = registry.FindHandler(handlerId) ?? throw new InvalidOperationException(
            $"No handler with the id '{handlerId}' is declared in this application, so {what} of run {runId} cannot run here. " +
            $"Declare it with {(batch ? "AddBatchHandler" : "AddHandler")} on every server, or delete the job.");
        if ((handler.Batch is not null) != batch)
        {
            throw new InvalidOperationException(
                $"Handler '{handlerId}' is declared as {(batch ? "an item handler (AddHandler)" : "a batch handler (AddBatchHandler)")}, but {what} of run {runId} was dispatched to it as {(batch ? "a batch" : "one item")}. " +
                "Declare it as it was when the run was dispatched, or delete the job.");
        }

        return handler;
    }

    /// <summary>The attempt number of the job being performed, read from storage the first time it is asked for.</summary>
    public static Lazy<int> AttemptOf(PerformContext? context) =>
        new(() => (context?.GetJobParameter<int>(JobParameters.RetryCount) ?? 0) + 1, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Runs <paramref name="body"/>, the handler's call, with the token it must pass on.</summary>
    public async Task RunAsync(CallSite site, PerformContext? context, Func<CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        var handler = site.Handler;
        var state = new Dictionary<string, object>
        {
            ["FanOutEvent"] = handler.EventName,
            ["FanOutHandler"] = handler.Id,
            ["FanOutRunId"] = site.RunId,
        };
        foreach (var (name, value) in site.Details)
        {
            state[name] = value;
        }

        using var scope = logger.BeginScope(state);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogHandling(handler.Id, site.Subject, site.Attempt.Value);
        }

        // Reading the dispatch's trace context is a query per job; only a trace listener makes it worth one.
        var dispatchTrace = default(ActivityContext);
        if (FanOutTelemetry.Source.HasListeners())
        {
            ActivityContext.TryParse(context?.GetJobParameter<string>(JobParameters.TraceParent), null, out dispatchTrace);
        }

        using var activity = FanOutTelemetry.Source.StartActivity($"fanout.handle {handler.Id}", ActivityKind.Consumer, dispatchTrace);
        if (activity is not null)
        {
            activity.SetTag("fanout.event", handler.EventName);
            activity.SetTag("fanout.handler", handler.Id);
            activity.SetTag("fanout.run_id", site.RunId);
            foreach (var (name, value) in site.Tags)
            {
                activity.SetTag(name, value);
            }

            activity.SetTag("fanout.attempt", site.Attempt.Value);
        }

        // The call's token also fires when its run is cancelled, on whichever server cancels it.
        using var call = calls.Start(site.RunId, cancellationToken);
        if (cancelled.IsCancelled(site.RunId))
        {
            // Learnt of between the job's start and now: the cancel looked through the calls before this one was there.
            call.Cancel();
        }

        // Released an interval after the last call of its key, it may still be fetched sooner after it than that.
        var waited = await starts.WaitTurnAsync(handler, site.Lead, call.Token).ConfigureAwait(false);
        if (waited > TimeSpan.Zero)
        {
            activity?.AddEvent(new ActivityEvent("fanout.throttled", tags: new ActivityTagsCollection { ["fanout.waited_ms"] = waited.TotalMilliseconds }));
        }

        var capture = context is null ? null : JobLogCapture.For(registry.Options.JobLogs, time);
        try
        {
            using (capture?.Begin())
            {
                await body(call.Token).ConfigureAwait(false);
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
                StoreLog(capture, context!, site);
            }
        }
    }

    // Written through the worker's own connection, which serves nothing else while its job runs. A log that cannot be
    // stored never fails the call, nor hides its exception.
    private void StoreLog(JobLogCapture capture, PerformContext context, CallSite site)
    {
        if (capture.Close() is not { } stored)
        {
            return;
        }

        try
        {
            context.Connection.SetJobParameter(site.JobId, JobParameters.Log(site.Attempt.Value), stored);
        }
        catch (Exception ex)
        {
            LogNotStored(ex, site.Handler.Id, site.Subject, site.JobId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The log of handler {FanOutHandler} for {FanOutSubject} (job {JobId}) could not be stored")]
    private partial void LogNotStored(Exception exception, string fanOutHandler, string fanOutSubject, string jobId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handler {FanOutHandler} handles {FanOutSubject}, attempt {Attempt}")]
    private partial void LogHandling(string fanOutHandler, string fanOutSubject, int attempt);
}

/// <summary>
/// One handler call as <see cref="HandlerCalls"/> wraps it: its handler, its job's item (a batch's first, whose limit keys
/// it shares), run, job and attempt, what it handles (an item's key, or a batch's size and first key) for the log, and the
/// log scope's and span's own fields.
/// </summary>
internal sealed record CallSite(
    RegisteredHandler Handler,
    ItemJobArgs Lead,
    string RunId,
    string JobId,
    Lazy<int> Attempt,
    string Subject,
    IReadOnlyList<KeyValuePair<string, object>> Details,
    IReadOnlyList<KeyValuePair<string, object?>> Tags);
