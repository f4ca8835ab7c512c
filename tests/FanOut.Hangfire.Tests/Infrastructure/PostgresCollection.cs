namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>This project's tests that share a PostgreSQL server (see <see cref="PostgresCollectionDefinition"/>).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresCollection : PostgresCollectionDefinition;
