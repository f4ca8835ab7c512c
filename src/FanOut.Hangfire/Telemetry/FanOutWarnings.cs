using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Telemetry;

/// <summary>
/// The misconfigurations noticed while running, each under a key naming its condition: logged at Warning when the
/// condition starts (or its message changes), listed until it is cleared. Silent problems (a queue nobody serves, a fast
/// path that declined) are the ones that cost hours, so they are said once, loudly, and stay visible.
/// </summary>
internal sealed partial class FanOutWarnings(TimeProvider time, ILogger<FanOutWarnings> logger)
{
    private readonly ConcurrentDictionary<string, FanOutWarning> _current = new(StringComparer.Ordinal);

    /// <summary>The warnings that currently hold, oldest first.</summary>
    public IReadOnlyList<FanOutWarning> Current => [.. _current.Values.OrderBy(w => w.Since)];

    /// <summary>Records that the condition <paramref name="key"/> holds; logs it the first time, or when its message changed.</summary>
    public void Raise(string key, string message)
    {
        var added = false;
        _current.AddOrUpdate(
            key,
            _ =>
            {
                added = true;
                return new FanOutWarning(message, time.GetUtcNow());
            },
            (_, existing) =>
            {
                if (existing.Message == message)
                {
                    return existing;
                }

                added = true;
                return new FanOutWarning(message, existing.Since);
            });
        if (added)
        {
            LogWarning(message);
        }
    }

    /// <summary>Records that the condition <paramref name="key"/> no longer holds.</summary>
    public void Clear(string key) => _current.TryRemove(key, out _);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private partial void LogWarning(string warning);
}
