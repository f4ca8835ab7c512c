using Hangfire.InMemory;

namespace FanOut.Hangfire.Tests.Units;

/// <summary>An in-memory storage that keeps expirations as asked (its default caps them at three hours).</summary>
internal static class UnitStorage
{
    public static InMemoryStorage Create() => new(new InMemoryStorageOptions { MaxExpirationTime = null });
}
