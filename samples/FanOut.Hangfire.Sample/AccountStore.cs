namespace FanOut.Hangfire.Sample;

/// <summary>An account that gets a Slack report.</summary>
public sealed record Account(string Id, string Name, string SlackChannel);

/// <summary>
/// Stands in for the application's database: the accounts, seeded at start-up with <c>Sample:Accounts</c> of them.
/// </summary>
public sealed class AccountStore
{
    private readonly List<Account> _accounts;
    private readonly Dictionary<string, Account> _byId;

    public AccountStore(IConfiguration configuration)
    {
        var count = configuration.GetValue("Sample:Accounts", 1_000);
        _accounts = Enumerable.Range(1, count)
            .Select(n => new Account($"acct-{n}", $"Account {n}", $"#reports-{n}"))
            .ToList();
        _byId = _accounts.ToDictionary(a => a.Id, StringComparer.Ordinal);
    }

    /// <summary>The accounts whose report is due, always in the same order (a real query would ORDER BY id).</summary>
    public IEnumerable<string> AccountIdsWithReportsDue() => _accounts.Select(a => a.Id);

    public Account? Find(string id) => _byId.GetValueOrDefault(id);
}
