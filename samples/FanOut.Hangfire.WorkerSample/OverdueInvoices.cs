namespace FanOut.Hangfire.WorkerSample;

/// <summary>The source of the <c>invoice-reminders</c> fan-out: the customers with an overdue invoice.</summary>
public sealed class OverdueInvoices : IFanOutSource<string>
{
    public const string FanOutId = "invoice-reminders";

    // Stands in for a query (ORDER BY id): an interrupted dispatch resumes by position, so the order must not change.
    private static readonly string[] CustomerIds = ["cust-1", "cust-2", "cust-3", "cust-4", "cust-5"];

    public IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, CancellationToken cancellationToken) =>
        CustomerIds.ToAsyncEnumerable();
}
