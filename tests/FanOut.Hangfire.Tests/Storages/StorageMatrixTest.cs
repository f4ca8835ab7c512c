using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Storages;

/// <summary>
/// A family of scenarios of the storage matrix. Each family is an abstract class of scenarios, with one small sealed
/// subclass per storage that carries the <c>Storage</c> trait and the collection of the storage's server, so
/// <c>dotnet test --filter Storage=Redis</c> runs one storage alone.
/// </summary>
public abstract class StorageMatrixTest(StorageUnderTest storage) : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    protected StorageUnderTest Storage { get; } = storage;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => Storage.DisposeAsync().AsTask();

    /// <summary>Starts a host on a fresh storage of this test.</summary>
    protected async Task<TestHost> StartAsync(Action<IFanOutBuilder> configure, Action<IServiceCollection> services, int workers = 4) =>
        await TestHost.StartAsync(await Storage.CreateAsync(), configure, services, workers);

    /// <summary>Fires a cron fan-out as its recurring job does.</summary>
    protected static void FireCron(TestHost host, string fanOutId) =>
        host.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:" + fanOutId);
}
