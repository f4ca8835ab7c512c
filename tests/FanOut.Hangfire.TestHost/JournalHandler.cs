namespace FanOut.Hangfire.TestHost;

/// <summary>
/// Journals each call when it starts and when it finishes, working for the configured time in between; with a call
/// file configured, also records there when the call began and when it returned, whether it succeeded or threw.
/// </summary>
internal sealed class JournalHandler(HostSettings settings, Journal journal, CallFile calls) : IFanOutHandler<string>
{
    public async Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        var call = calls.Started(item, context);
        var succeeded = false;
        try
        {
            var execution = await journal.ExecutionStartedAsync(context, cancellationToken);
            if (settings.HandlerDelay > TimeSpan.Zero)
            {
                await Task.Delay(settings.HandlerDelay, cancellationToken);
            }

            await journal.ExecutionFinishedAsync(execution, cancellationToken);
            succeeded = true;
        }
        finally
        {
            calls.Ended(call, succeeded);
        }
    }
}
