namespace FanOut.Hangfire.Dispatch;

/// <summary>A fan-out's lease as stored: the execution named in it, its run, and when it runs out unless renewed.</summary>
internal sealed record DispatchLeaseState(string Owner, string RunId, DateTimeOffset ExpiresAt);
