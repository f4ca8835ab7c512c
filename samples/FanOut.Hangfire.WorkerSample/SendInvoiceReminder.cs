namespace FanOut.Hangfire.WorkerSample;

/// <summary>The <c>send-invoice-reminder</c> handler: reminds one customer, as a Hangfire job of its own.</summary>
public sealed partial class SendInvoiceReminder(ILogger<SendInvoiceReminder> logger) : IFanOutHandler<string>
{
    public Task HandleAsync(string customerId, FanOutContext context, CancellationToken cancellationToken)
    {
        // A real handler would send an e-mail here, passing context.IdempotencyKey so a retry cannot send it twice.
        LogReminded(customerId, context.RunId);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reminded {CustomerId} of an overdue invoice (run {RunId})")]
    private partial void LogReminded(string customerId, string runId);
}
