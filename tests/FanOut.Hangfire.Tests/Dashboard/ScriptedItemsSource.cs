using System.Runtime.CompilerServices;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>The items of <see cref="DashboardServer.RetryingCronId"/> and <see cref="DashboardServer.LoggedCronId"/>, by the fan-out firing.</summary>
public sealed class ScriptedItemsSource : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var item in context.FanOutId == DashboardServer.RetryingCronId ? DashboardServer.RetryingItems : DashboardServer.LoggedItems)
        {
            yield return item;
        }

        await Task.CompletedTask;
    }
}
