using Hangfire.Server;

namespace FanOut.Hangfire.Jobs;

/// <summary>What a batch job does; implemented where execution lives, so the stored job stays a thin shell.</summary>
internal interface IBatchJobExecutor
{
    /// <summary>Calls the batch's handler, resolved from <paramref name="services"/>, the job's own DI scope, with the items still to do.</summary>
    Task ExecuteAsync(BatchJobArgs args, IServiceProvider services, PerformContext? context, CancellationToken cancellationToken);
}
