namespace FanOut.Hangfire.WorkerSample;

/// <summary>Called once a run of <c>invoice-reminders</c> has completed: every reminder sent or out of retries.</summary>
public sealed partial class LogCompletedRun(ILogger<LogCompletedRun> logger) : IFanOutCompletionHandler
{
    public Task OnCompletedAsync(FanOutCompletion completion, CancellationToken cancellationToken)
    {
        var run = completion.Run;
        LogCompleted(run.RunId, run.Name, run.Succeeded, run.Failed);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of {Name} completed: {Succeeded} reminders sent, {Failed} failed")]
    private partial void LogCompleted(string runId, string name, long succeeded, long failed);
}
