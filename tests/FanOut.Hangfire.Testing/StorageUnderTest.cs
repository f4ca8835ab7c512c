using Hangfire;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// One storage of the storage matrix: makes a fresh, empty Hangfire storage for each test, and cleans up after it.
/// The storages are the ones the README's "Storages" table lists; <see cref="Name"/> is the value of the tests'
/// <c>Storage</c> trait.
/// </summary>
public sealed class StorageUnderTest : IAsyncDisposable
{
    /// <summary>The xunit trait that says which storage a test runs on: <c>dotnet test --filter Storage=Redis</c>.</summary>
    public const string Trait = "Storage";

    public const string InMemoryName = "InMemory";
    public const string PostgreSqlName = "PostgreSql";
    public const string RedisName = "Redis";
    public const string SqliteName = "Sqlite";

    private readonly Func<Task<JobStorage>> _create;
    private readonly Action _cleanUp;

    private StorageUnderTest(string name, Func<Task<JobStorage>> create, Action? cleanUp = null)
    {
        Name = name;
        _create = create;
        _cleanUp = cleanUp ?? (() => { });
    }

    public string Name { get; }

    public static StorageUnderTest InMemory() => new(InMemoryName, () => Task.FromResult(TestHost.InMemory()));

    /// <summary>A database of its own on the collection's server.</summary>
    public static StorageUnderTest PostgreSql(PostgresServer server)
    {
        string? database = null;
        return new(PostgreSqlName, async () => TestHost.Postgres(database ??= await server.CreateDatabaseAsync("matrix")));
    }

    /// <summary>A key prefix of its own on the collection's server.</summary>
    public static StorageUnderTest Redis(RedisServer server)
    {
        var prefix = RedisServer.NewPrefix();
        return new(RedisName, () => Task.FromResult(TestHost.Redis(server.Connection, prefix)));
    }

    /// <summary>A database file of its own in a temp folder, deleted at the end.</summary>
    public static StorageUnderTest Sqlite()
    {
        var folder = Directory.CreateTempSubdirectory("fanout-sqlite-").FullName;
        return new(SqliteName, () => Task.FromResult(TestHost.Sqlite(Path.Combine(folder, "hangfire.db"))), () => DeleteFolder(folder));
    }

    /// <summary>A storage on this test's store; every call returns a storage on the same data.</summary>
    public Task<JobStorage> CreateAsync() => _create();

    public ValueTask DisposeAsync()
    {
        _cleanUp();
        return ValueTask.CompletedTask;
    }

    public override string ToString() => Name;

    private static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"StorageUnderTest: could not delete {folder}: {exception.Message}");
        }
    }
}
