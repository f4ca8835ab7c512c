using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FanOut.Hangfire.Telemetry;

/// <summary>
/// The library's traces and metrics, named as <see cref="FanOutDiagnostics"/> says. Static like every ActivitySource and Meter
/// meant to be found by name (OpenTelemetry's AddSource / AddMeter).
/// </summary>
internal static class FanOutTelemetry
{
    public static readonly ActivitySource Source = new(FanOutDiagnostics.ActivitySourceName, typeof(FanOutTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Meter Meter = new(FanOutDiagnostics.MeterName, typeof(FanOutTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> ItemsDispatched = Meter.CreateCounter<long>(
        "fanout.items.dispatched", "{item}", "Items dispatched into child jobs.");

    public static readonly Histogram<double> DispatchDuration = Meter.CreateHistogram<double>(
        "fanout.dispatch.duration", "s", "How long a dispatch (cron firing or send) took.");

    public static readonly Counter<long> JobsSucceeded = Meter.CreateCounter<long>(
        "fanout.jobs.succeeded", "{job}", "Child jobs that succeeded, per handler.");

    public static readonly Counter<long> JobsFailed = Meter.CreateCounter<long>(
        "fanout.jobs.failed", "{job}", "Child jobs that failed with no retries left, per handler.");

    public static readonly Counter<long> JobsWaited = Meter.CreateCounter<long>(
        "fanout.jobs.waited", "{job}", "Child jobs that had to wait for a slot of their limit, per limit.");

    public static readonly Histogram<double> RunCompletionTime = Meter.CreateHistogram<double>(
        "fanout.run.completion_time", "s", "From the start of a run's dispatch to its completion.");

    /// <summary>Starts the span of a dispatch (cron firing or send); child jobs' spans join its trace.</summary>
    public static Activity? StartDispatch(string name, string eventName, string runId)
    {
        var activity = Source.StartActivity($"fanout.dispatch {name}", ActivityKind.Producer);
        activity?.SetTag("fanout.name", name);
        activity?.SetTag("fanout.event", eventName);
        activity?.SetTag("fanout.run_id", runId);
        return activity;
    }

    public static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);
}
