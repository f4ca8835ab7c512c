using System.Globalization;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// A batch handler that journals each item as <see cref="JournalHandler"/> journals a call: one record per item of every
/// call, started when the handler comes to the item and finished once it has worked the configured time on it, so a
/// kill mid-batch leaves the items done, the one being done and those not begun apart. With
/// <see cref="HostSettings.FailFirstAttemptEvery"/>, some items are marked failed on their first attempt (their record
/// says so) and are handled on the next.
/// </summary>
internal sealed class JournalBatchHandler(HostSettings settings, Journal journal) : IFanOutBatchHandler<string>
{
    public async Task HandleAsync(IReadOnlyList<FanOutBatchItem<string>> items, FanOutBatchContext context, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            var execution = await journal.ExecutionStartedAsync(item.Context, cancellationToken);
            if (settings.HandlerDelay > TimeSpan.Zero)
            {
                await Task.Delay(settings.HandlerDelay, cancellationToken);
            }

            if (FailsNow(item.Item, context.Attempt))
            {
                item.Fail(new InvalidOperationException($"{item.Item} was refused (attempt {context.Attempt})"));
                await journal.ExecutionFailedAsync(execution, cancellationToken);
            }
            else
            {
                await journal.ExecutionFinishedAsync(execution, cancellationToken);
            }
        }
    }

    /// <summary>The number at the end of an item (<see cref="JournalSource"/>): <c>items-000042</c> is 42.</summary>
    private static int NumberOf(string item) => int.Parse(item.AsSpan(item.LastIndexOf('-') + 1), NumberStyles.None, CultureInfo.InvariantCulture);

    private bool FailsNow(string item, int attempt) =>
        attempt == 1 && settings.FailFirstAttemptEvery > 0 && NumberOf(item) % settings.FailFirstAttemptEvery == 0;
}
