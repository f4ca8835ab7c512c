namespace FanOut.Hangfire.Sample;

/// <summary>
/// The source of the <c>slack-notification-cron</c> fan-out: on every firing, streams the accounts to notify, each with
/// its workspace and channel. It loads no more than that; each notification is posted by its own job.
/// </summary>
public sealed class NotificationsToRun(AccountStore accounts) : IFanOutSource<AccountNotification>
{
    // An interrupted dispatch resumes by position, so the order must be the same every time a run reads it.
    public IAsyncEnumerable<AccountNotification> GetItemsAsync(FanOutSourceContext context, CancellationToken cancellationToken) =>
        accounts.NotificationsDue().ToAsyncEnumerable();
}
