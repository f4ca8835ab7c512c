namespace FanOut.Hangfire.Jobs;

/// <summary>What a completion job does; implemented where runs live, so the stored job stays a thin shell.</summary>
internal interface ICompletionJobExecutor
{
    /// <summary>Calls the completion handler, resolved from <paramref name="services"/>, the job's own DI scope.</summary>
    Task RunAsync(CompletionJobArgs args, IServiceProvider services, CancellationToken cancellationToken);
}
