using Hangfire.Server;

namespace FanOut.Hangfire.Jobs;

/// <summary>What a child job does; implemented where execution lives, so the stored job stays a thin shell.</summary>
internal interface IItemJobExecutor
{
    /// <summary>Calls the item's handler, resolved from <paramref name="services"/>, the job's own DI scope.</summary>
    Task ExecuteAsync(ItemJobArgs args, IServiceProvider services, PerformContext? context, CancellationToken cancellationToken);
}
