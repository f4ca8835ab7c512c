using Xunit;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// The <c>postgres</c> collection: its tests share one <see cref="PostgresServer"/>, and run apart from the other
/// collections because they start Hangfire servers with many connections and some stop the database on purpose. xunit
/// reads collection definitions from the test assembly only, so each test project declares the collection by deriving
/// from this class, with <c>[CollectionDefinition(Name, DisableParallelization = true)]</c>.
/// </summary>
public abstract class PostgresCollectionDefinition : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
