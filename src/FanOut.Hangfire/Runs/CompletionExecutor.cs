using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Runs;

/// <summary>What a completion job does: reads the completed run and calls the completion handler declared for it.</summary>
internal sealed class CompletionExecutor(FanOutRegistry registry, HangfireServices hangfire, FanOutRuns runs) : ICompletionJobExecutor
{
    /// <summary>How many failed items a completion handler is told about, at most.</summary>
    internal const int FailedItemsShown = 1000;

    public async Task RunAsync(CompletionJobArgs args, IServiceProvider services, CancellationToken cancellationToken)
    {
        var handlerType = registry.FindCompletionHandler(args.Name) ?? throw new InvalidOperationException(
            $"No completion handler for '{args.Name}' is declared in this application, so run {args.RunId} cannot be reported here.");

        FanOutRun run;
        IReadOnlyList<FanOutFailedItem> failed;
        using (var connection = hangfire.Storage.GetConnection())
        {
            run = runs.Read(connection, args.RunId, cancellationToken)
                ?? throw new InvalidOperationException($"Run {args.RunId} of '{args.Name}' has no record (it may have expired).");
            failed = runs.FailedItems(connection, args.RunId, FailedItemsShown, cancellationToken);
        }

        var handler = (IFanOutCompletionHandler)services.GetRequiredService(handlerType);
        await handler.OnCompletedAsync(new FanOutCompletion(run, failed, args.Completion), cancellationToken).ConfigureAwait(false);
    }
}
