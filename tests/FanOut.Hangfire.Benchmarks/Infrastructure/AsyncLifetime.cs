namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>
/// The linked <see cref="PostgresServer"/> is an xunit fixture; this stands in for xunit's interface so that the
/// benchmarks can use it, calling its methods themselves, without a test framework.
/// </summary>
internal interface IAsyncLifetime
{
    Task InitializeAsync();

    Task DisposeAsync();
}
