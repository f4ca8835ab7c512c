namespace FanOut.Hangfire.Testing;

/// <summary>Records every item it handles, with its attempt, in the test's <see cref="Recorder"/>.</summary>
public sealed class RecordingHandler(Recorder recorder) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        recorder.NextAttempt(context.HandlerId, item);
        recorder.Calls.Add((context.HandlerId, item, context));
        return Task.CompletedTask;
    }
}
