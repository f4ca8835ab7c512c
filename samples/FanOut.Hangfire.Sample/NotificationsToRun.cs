namespace FanOut.Hangfire.Sample;

/// <summary>
/// The source of the <c>slack-notification-cron</c> fan-out: on every firing, streams the IDs of the accounts to
/// notify. It only loads IDs; each notification is posted by its own job.
/// </summary>
public sealed class NotificationsToRun(AccountStore accounts) : IFanOutSource<string>
{
    // An interrupted dispatch resumes by position, so the order must be the same every time a run reads it.
    public IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, CancellationToken cancellationToken) =>
        accounts.AccountIdsWithReportsDue().ToAsyncEnumerable();
}
