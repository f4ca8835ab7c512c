namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>This project's tests that share a Redis server (see <see cref="RedisCollectionDefinition"/>).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisCollection : RedisCollectionDefinition;
