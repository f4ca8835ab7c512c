namespace FanOut.Hangfire.Dispatch;

/// <summary>An item as dispatched: its key (for names, idempotency and checkpoints) and its JSON.</summary>
internal readonly record struct DispatchItem(string Key, string Json);
