using System.Collections.Concurrent;

namespace FanOut.Hangfire.Testing;

/// <summary>What the handlers of one test saw, shared through DI as a singleton.</summary>
public sealed class Recorder
{
    public ConcurrentBag<(string Handler, string Key, FanOutContext Context)> Calls { get; } = [];

    public ConcurrentDictionary<string, int> Attempts { get; } = new();

    public int CountOf(string handler) => Calls.Count(c => c.Handler == handler);

    public int NextAttempt(string handler, string key) => Attempts.AddOrUpdate($"{handler}|{key}", 1, (_, n) => n + 1);
}
