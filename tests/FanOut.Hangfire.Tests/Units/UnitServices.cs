using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Units;

/// <summary>
/// The services <c>AddFanOut</c> registers, on an in-memory storage and a fake clock, with no host and no Hangfire
/// server: nothing runs unless a test calls it. <c>AddHangfire</c> is left out on purpose, as it points Hangfire's static
/// log provider at this provider, which outlives it.
/// </summary>
internal sealed class UnitServices : IDisposable
{
    private readonly ServiceProvider _provider;

    public UnitServices(Action<IFanOutBuilder>? declare = null, Action<FanOutOptions>? configure = null)
    {
        Storage = UnitStorage.Create();
        Clock = new UnitClock();

        // The clock goes in before AddFanOut, which adds the system clock only if none is registered.
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<JobStorage>(Storage)
            .AddSingleton<TimeProvider>(Clock);
        var fanOut = services.AddFanOut(options => configure?.Invoke(options));
        declare?.Invoke(fanOut);
        _provider = services.BuildServiceProvider();
    }

    public UnitClock Clock { get; }

    public InMemoryStorage Storage { get; }

    public T Get<T>()
        where T : notnull => _provider.GetRequiredService<T>();

    public void Dispose()
    {
        _provider.Dispose();
        Storage.Dispose();
    }
}
