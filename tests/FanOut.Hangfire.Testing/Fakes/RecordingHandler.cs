namespace FanOut.Hangfire.Testing;

/// <summary>Records every item it handles, with its attempt, in the test's <see cref="Recorder"/>.</summary>
public sealed class RecordingHandler(Recorder recorder) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        recorder.NextAttempt(context.HandlerId, item);

        // Attempt is read from the job's parameters on first use, through the worker's storage connection: read it
        // during the call, not later from the test while that connection serves another job.
        _ = context.Attempt;
        recorder.Calls.Add((context.HandlerId, item, context));
        return Task.CompletedTask;
    }
}
