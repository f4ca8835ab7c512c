using Xunit;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// The <c>redis</c> collection: its tests share one <see cref="RedisServer"/>, each under its own key prefix. xunit reads
/// collection definitions from the test assembly only, so a test project declares the collection by deriving from this
/// class, with <c>[CollectionDefinition(Name, DisableParallelization = true)]</c>.
/// </summary>
public abstract class RedisCollectionDefinition : ICollectionFixture<RedisServer>
{
    public const string Name = "redis";
}
