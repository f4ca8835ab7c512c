namespace FanOut.Hangfire.Sample;

/// <summary>An account that gets a Slack report, posted to a channel of the Slack workspace it belongs to.</summary>
public sealed record Account(string Id, string Name, string WorkspaceId, string ChannelId);

/// <summary>
/// Stands in for the application's database: <c>Sample:Accounts</c> accounts, seeded at start-up across
/// <c>Sample:Workspaces</c> Slack workspaces and <c>Sample:Channels</c> channels, shared out evenly among the workspaces.
/// The accounts of a workspace are next to each other (as rows created customer by customer are), and take its channels
/// in turn, so several accounts share each channel.
/// </summary>
public sealed class AccountStore
{
    private readonly List<Account> _accounts;
    private readonly Dictionary<string, Account> _byId;

    public AccountStore(IConfiguration configuration)
    {
        var count = configuration.GetValue("Sample:Accounts", 1_000);
        var workspaces = configuration.GetValue("Sample:Workspaces", 5);
        var channels = configuration.GetValue("Sample:Channels", 200);
        if (count < 0 || workspaces < 1 || channels < workspaces)
        {
            throw new InvalidOperationException(
                $"Sample:Accounts ({count}) must be 0 or more, Sample:Workspaces ({workspaces}) 1 or more, and Sample:Channels ({channels}) at least Sample:Workspaces.");
        }

        var channelsPerWorkspace = channels / workspaces;
        var accountsPerWorkspace = Math.Max(1, (count + workspaces - 1) / workspaces);
        _accounts = Enumerable.Range(0, count)
            .Select(i =>
            {
                var workspace = i / accountsPerWorkspace;
                var channel = (workspace * channelsPerWorkspace) + (i % accountsPerWorkspace % channelsPerWorkspace);
                return new Account($"acct-{i + 1}", $"Account {i + 1}", $"T{workspace + 1:D3}", $"C{channel + 1:D4}");
            })
            .ToList();
        _byId = _accounts.ToDictionary(a => a.Id, StringComparer.Ordinal);
    }

    /// <summary>
    /// The notifications due: each account with its workspace and channel, which the handler's limits are keyed by, always
    /// in the same order (a real query would select those three columns and ORDER BY id).
    /// </summary>
    public IEnumerable<AccountNotification> NotificationsDue() => _accounts.Select(AccountNotification.Of);

    public Account? Find(string id) => _byId.GetValueOrDefault(id);
}
