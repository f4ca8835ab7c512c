namespace FanOut.Hangfire.Sample;

/// <summary>
/// The item of <c>app/notification.dispatched</c>: which account to notify, and where, so that the handler's limits can
/// be keyed by workspace and channel at dispatch without loading the account. Its key is <see cref="Id"/> (jobs are named
/// <c>send-slack-notification · acct-42</c>).
/// </summary>
public sealed record AccountNotification(string Id, string WorkspaceId, string ChannelId)
{
    public static AccountNotification Of(Account account) => new(account.Id, account.WorkspaceId, account.ChannelId);
}
