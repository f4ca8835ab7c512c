namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>The items of <see cref="DashboardServer.LimitedCronId"/>: keys before the '-', dispatched in this order.</summary>
public sealed class LimitedItemsSource : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var item in DashboardServer.LimitedItems)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask;
    }
}
