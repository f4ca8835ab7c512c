namespace FanOut.Hangfire.Sample;

/// <summary>
/// Called once when a run of <c>slack-notification-cron</c> completes (and once more each time "Retry failed" ends it
/// again): logs what happened, naming the accounts that could not be notified.
/// </summary>
public sealed partial class LogRunSummary(ILogger<LogRunSummary> logger) : IFanOutCompletionHandler
{
    public Task OnCompletedAsync(FanOutCompletion completion, CancellationToken cancellationToken)
    {
        var run = completion.Run;
        LogSummary(
            run.RunId,
            completion.IsRecompletion ? "completed again" : "completed",
            run.Succeeded,
            run.Failed,
            completion.Duration?.TotalSeconds ?? 0,
            string.Join(", ", completion.FailedItems.Select(f => f.ItemKey)));
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} {How}: {Succeeded} notifications posted, {Failed} failed, in {Seconds:F1} s. Failed accounts: [{FailedAccounts}]")]
    private partial void LogSummary(string runId, string how, long succeeded, long failed, double seconds, string failedAccounts);
}
