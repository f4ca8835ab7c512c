namespace FanOut.Hangfire.Tests.Readme;

/// <summary>
/// What the README assumes the user has: the application's own types, which its snippets use without declaring
/// (the README calls <c>AccountStore</c> "your data access"). Only the members the snippets call, with the shapes they
/// use; nothing here is the library's.
/// </summary>
internal static class ReadmeAssumptions
{
    /// <summary>The file name diagnostics in these types would carry.</summary>
    public const string FileName = "AccountStore.cs";

    /// <summary>The types, as C# source compiled with the snippets.</summary>
    public const string Source = """
        // The account ids whose report is due, in a stable order; and one account by id, or null.
        public sealed class AccountStore
        {
            public IEnumerable<string> AccountIdsWithReportsDue() => [];

            public Account? Find(string accountId) => null;
        }

        public sealed record Account(string Id, string Name, string SlackChannel);
        """;
}
