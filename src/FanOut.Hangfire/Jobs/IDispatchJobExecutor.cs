using Hangfire.Server;

namespace FanOut.Hangfire.Jobs;

/// <summary>What a dispatch job does; implemented where dispatch lives, so the stored job stays a thin shell.</summary>
internal interface IDispatchJobExecutor
{
    Task<string> DispatchAsync(DispatchJobArgs args, PerformContext? context, CancellationToken cancellationToken);
}
