namespace FanOut.Hangfire.Jobs;

/// <summary>What a batch job stores: the handler id, the run, the batch key, and each item's key and JSON in order.</summary>
internal sealed record BatchJobArgs(string HandlerId, string RunId, string? BatchKey, IReadOnlyList<string> ItemKeys, IReadOnlyList<string> ItemsJson)
{
    public int Count => ItemKeys.Count;

    /// <summary>
    /// The batch's first item, which stands for the batch wherever a job is looked at as one item: its limit keys (the
    /// items of a batch share them), the run and handler it belongs to.
    /// </summary>
    public ItemJobArgs Lead => new(HandlerId, RunId, ItemKeys[0], ItemsJson[0]);
}

/// <summary>
/// The stored shape of <see cref="FanOutBatchJob.ExecuteAsync"/>:
/// <c>(string handlerId, string runId, string? batchKey, string[] itemKeys, string[] itemsJson, PerformContext? context, CancellationToken cancellationToken)</c>.
/// </summary>
internal sealed class BatchJobCodec() : JobCodec<BatchJobArgs>(typeof(FanOutBatchJob), nameof(FanOutBatchJob.ExecuteAsync))
{
    public static BatchJobCodec Instance { get; } = new();

    protected override object?[] Write(BatchJobArgs args) =>
        [args.HandlerId, args.RunId, args.BatchKey, args.ItemKeys.ToArray(), args.ItemsJson.ToArray(), null, CancellationToken.None];

    protected override BatchJobArgs? Read(IReadOnlyList<object?> arguments) =>
        arguments is [string handlerId, string runId, var batchKey, string[] { Length: > 0 } keys, string[] json, ..]
            && batchKey is null or string
            && keys.Length == json.Length
            ? new BatchJobArgs(handlerId, runId, (string?)batchKey, keys, json)
            : null;
}
