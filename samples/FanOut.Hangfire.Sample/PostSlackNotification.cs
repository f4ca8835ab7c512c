namespace FanOut.Hangfire.Sample;

/// <summary>
/// The <c>send-slack-notification</c> handler: posts one account's report to Slack. Each account is its own Hangfire
/// job, so a failure retries that account alone.
/// </summary>
public sealed partial class PostSlackNotification(
    AccountStore accounts,
    IHttpClientFactory httpClientFactory,
    ILogger<PostSlackNotification> logger) : IFanOutHandler<string>
{
    public const string HttpClientName = "slack";

    public async Task HandleAsync(string accountId, FanOutContext context, CancellationToken cancellationToken)
    {
        var account = accounts.Find(accountId);
        if (account is null)
        {
            // Deleted since the run started: nothing to post, and retrying would not change that.
            LogAccountGone(accountId);
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "fake-slack/messages")
        {
            Content = JsonContent.Create(new SlackMessage(account.SlackChannel, $"Weekly report for {account.Name} is ready.")),
        };

        // Jobs run at least once: the same key on every attempt lets Slack drop a message it already has.
        request.Headers.Add("Idempotency-Key", context.IdempotencyKey);

        using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();

        if (context.Attempt > 1)
        {
            LogPostedAfterRetry(accountId, context.Attempt);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Account {AccountId} no longer exists; no notification posted")]
    private partial void LogAccountGone(string accountId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification for {AccountId} posted on attempt {Attempt}")]
    private partial void LogPostedAfterRetry(string accountId, int attempt);
}

public sealed record SlackMessage(string Channel, string Text);
