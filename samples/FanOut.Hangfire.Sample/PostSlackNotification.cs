using System.Net;
using System.Net.Http.Headers;

namespace FanOut.Hangfire.Sample;

/// <summary>
/// The <c>send-slack-notification</c> handler: posts one account's report to its Slack channel. Each account is its own
/// Hangfire job, so a failure, a 429 included, retries that account alone.
/// </summary>
public sealed partial class PostSlackNotification(
    AccountStore accounts,
    IHttpClientFactory httpClientFactory,
    ILogger<PostSlackNotification> logger) : IFanOutHandler<AccountNotification>
{
    public const string HttpClientName = "slack";

    public async Task HandleAsync(AccountNotification notification, FanOutContext context, CancellationToken cancellationToken)
    {
        var account = accounts.Find(notification.Id);
        if (account is null)
        {
            // Deleted since the run started: nothing to post, and retrying would not change that.
            LogAccountGone(notification.Id);
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "fake-slack/messages")
        {
            Content = JsonContent.Create(new SlackMessage(account.ChannelId, $"Weekly report for {account.Name} is ready.")),
        };

        // The workspace's bot token: Slack limits requests per workspace, and messages per channel.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FakeSlack.TokenOf(account.WorkspaceId));

        // Jobs run at least once: the same key on every attempt lets Slack drop a message it already has.
        request.Headers.Add("Idempotency-Key", context.IdempotencyKey);

        using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            // Rate-limited: failing the attempt lets Hangfire retry this account after the handler's retry delay.
            throw new HttpRequestException(
                $"Slack rate-limited the post to {account.ChannelId} of {account.WorkspaceId} (429, retry after {response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 1} s).",
                inner: null,
                HttpStatusCode.TooManyRequests);
        }

        response.EnsureSuccessStatusCode();

        if (context.Attempt > 1)
        {
            LogPostedAfterRetry(notification.Id, context.Attempt);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Account {AccountId} no longer exists; no notification posted")]
    private partial void LogAccountGone(string accountId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification for {AccountId} posted on attempt {Attempt}")]
    private partial void LogPostedAfterRetry(string accountId, int attempt);
}

public sealed record SlackMessage(string Channel, string Text);
