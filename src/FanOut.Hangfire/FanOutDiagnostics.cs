namespace FanOut.Hangfire;

/// <summary>
/// The names the library publishes its traces and metrics under, for OpenTelemetry's <c>AddSource</c> and
/// <c>AddMeter</c> (or an <see cref="System.Diagnostics.ActivityListener"/> and a <c>MeterListener</c>).
/// </summary>
public static class FanOutDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> of dispatch and handler spans.</summary>
    public const string ActivitySourceName = "FanOut.Hangfire";

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of the library's counters and histograms.</summary>
    public const string MeterName = "FanOut.Hangfire";
}
