namespace FanOut.Hangfire.Items;

/// <summary>An item as a child job stores it: its key (for names, idempotency and checkpoints) and its JSON.</summary>
internal readonly record struct EncodedItem(string Key, string Json);
