namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>
/// Tests that need PostgreSQL share one server. They run apart from the other collections because
/// they start Hangfire servers with many connections and some stop the database on purpose.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
