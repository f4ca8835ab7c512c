namespace FanOut.Hangfire.Jobs;

/// <summary>What a child job stores: the handler id, the run, the item's key and its JSON; never a user type name.</summary>
internal sealed record ItemJobArgs(string HandlerId, string RunId, string ItemKey, string ItemJson);

/// <summary>
/// The stored shape of <see cref="FanOutItemJob.ExecuteAsync"/>:
/// <c>(string handlerId, string runId, string itemKey, string itemJson, PerformContext? context, CancellationToken cancellationToken)</c>.
/// </summary>
internal sealed class ItemJobCodec() : JobCodec<ItemJobArgs>(typeof(FanOutItemJob), nameof(FanOutItemJob.ExecuteAsync))
{
    public static ItemJobCodec Instance { get; } = new();

    protected override object?[] Write(ItemJobArgs args) =>
        [args.HandlerId, args.RunId, args.ItemKey, args.ItemJson, null, CancellationToken.None];

    protected override ItemJobArgs? Read(IReadOnlyList<object?> arguments) =>
        arguments is [string handlerId, string runId, string itemKey, string itemJson, ..]
            ? new ItemJobArgs(handlerId, runId, itemKey, itemJson)
            : null;
}
