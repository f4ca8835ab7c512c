namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>Fails the first attempt of every item whose number is divisible by 3, then succeeds.</summary>
public sealed class FlakyHandler(Recorder recorder) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        var attempt = recorder.NextAttempt(context.HandlerId, item);
        if (attempt == 1 && int.Parse(item[^6..], System.Globalization.CultureInfo.InvariantCulture) % 3 == 0)
        {
            throw new InvalidOperationException($"Transient failure of {item}");
        }

        // Attempt is read from the job's parameters on first use, through the worker's storage connection: read it
        // during the call, not later from the test while that connection serves another job.
        _ = context.Attempt;
        recorder.Calls.Add((context.HandlerId, item, context));
        return Task.CompletedTask;
    }
}

/// <summary>Fails every attempt.</summary>
public sealed class AlwaysFailingHandler(Recorder recorder) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        recorder.NextAttempt(context.HandlerId, item);
        throw new InvalidOperationException($"Permanent failure of {item}");
    }
}
