namespace FanOut.Hangfire.Jobs;

/// <summary>What a completion job stores: the cron fan-out id or event name, the run, and which completion of it this is.</summary>
internal sealed record CompletionJobArgs(string Name, string RunId, int Completion);

/// <summary>
/// The stored shape of <see cref="FanOutCompletionJob.RunAsync"/>:
/// <c>(string name, string runId, int completion, CancellationToken cancellationToken)</c>.
/// </summary>
internal sealed class CompletionJobCodec() : JobCodec<CompletionJobArgs>(typeof(FanOutCompletionJob), nameof(FanOutCompletionJob.RunAsync))
{
    public static CompletionJobCodec Instance { get; } = new();

    protected override object?[] Write(CompletionJobArgs args) => [args.Name, args.RunId, args.Completion, CancellationToken.None];

    // Hangfire reads a stored int back as a long when the method is not at hand to say which.
    protected override CompletionJobArgs? Read(IReadOnlyList<object?> arguments) =>
        arguments is [string name, string runId, var completion, ..] && completion is int or long
            ? new CompletionJobArgs(name, runId, Convert.ToInt32(completion, System.Globalization.CultureInfo.InvariantCulture))
            : null;
}
