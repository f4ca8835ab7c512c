namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>A scoped service: one instance per DI scope, numbered, so tests can see how scopes are made.</summary>
public sealed class ScopeMarker
{
    private static int _next;

    public int Number { get; } = Interlocked.Increment(ref _next);
}


/// <summary>Records accounts with the scope it ran in.</summary>
public sealed class AccountHandler(Recorder recorder, ScopeMarker scope) : IFanOutHandler<Account>
{
    public Task HandleAsync(Account item, FanOutContext context, CancellationToken cancellationToken)
    {
        recorder.Calls.Add((context.HandlerId, $"{item.Id}:{item.Seats}:{scope.Number}", context));
        return Task.CompletedTask;
    }
}

/// <summary>Waits until the server shuts down, then records that its token fired.</summary>
public sealed class WaitForShutdownHandler(Recorder recorder) : IFanOutHandler<string>
{
    public async Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        recorder.Calls.Add(("started", item, context));
        try
        {
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            recorder.Calls.Add(("cancelled", item, context));
            throw;
        }
    }
}
