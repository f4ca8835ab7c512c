using FanOut.Hangfire.Tests.Fakes;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>A handler whose calls hold their slot until the test opens the <see cref="Gate"/>, so the jobs behind them wait.</summary>
public sealed class GatedHandler(Gate gate) : IFanOutHandler<string>
{
    public async Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        using var _ = gate.Enter();
        await gate.Open.Task.WaitAsync(cancellationToken);
    }
}

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
