namespace FanOut.Hangfire.WorkerSample;

/// <summary>Runs the fan-out once when the worker starts, instead of waiting for its schedule.</summary>
public sealed partial class TriggerOnStart(IFanOutClient fanOut, ILogger<TriggerOnStart> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var runId = await fanOut.TriggerAsync(OverdueInvoices.FanOutId, cancellationToken);
        LogTriggered(OverdueInvoices.FanOutId, runId);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Triggered {FanOutId}: run {RunId}")]
    private partial void LogTriggered(string fanOutId, string runId);
}
