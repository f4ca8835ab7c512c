namespace FanOut.Hangfire.Jobs;

/// <summary>What a dispatch job stores: the cron fan-out, and the run id a manual trigger chose (null for a cron firing).</summary>
internal sealed record DispatchJobArgs(string FanOutId, string? RunId);

/// <summary>
/// The stored shape of <see cref="FanOutDispatchJob.DispatchAsync"/>:
/// <c>(string fanOutId, string? runId, PerformContext? context, CancellationToken cancellationToken)</c>.
/// </summary>
internal sealed class DispatchJobCodec() : JobCodec<DispatchJobArgs>(typeof(FanOutDispatchJob), nameof(FanOutDispatchJob.DispatchAsync))
{
    public static DispatchJobCodec Instance { get; } = new();

    protected override object?[] Write(DispatchJobArgs args) => [args.FanOutId, args.RunId, null, CancellationToken.None];

    protected override DispatchJobArgs? Read(IReadOnlyList<object?> arguments) =>
        arguments is [string fanOutId, var runId, ..] && runId is null or string
            ? new DispatchJobArgs(fanOutId, (string?)runId)
            : null;
}
