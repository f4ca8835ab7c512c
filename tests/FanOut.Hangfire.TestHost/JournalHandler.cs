namespace FanOut.Hangfire.TestHost;

/// <summary>Journals each call when it starts and when it finishes, working for the configured time in between.</summary>
internal sealed class JournalHandler(HostSettings settings, Journal journal) : IFanOutHandler<string>
{
    public async Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        var execution = await journal.ExecutionStartedAsync(context, cancellationToken);
        if (settings.HandlerDelay > TimeSpan.Zero)
        {
            await Task.Delay(settings.HandlerDelay, cancellationToken);
        }

        await journal.ExecutionFinishedAsync(execution, cancellationToken);
    }
}
