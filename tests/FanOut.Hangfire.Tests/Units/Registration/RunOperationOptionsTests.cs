using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Tests.Units.Dispatch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>The options of the run operations are configured like the others: code, then configuration over it, checked at start-up.</summary>
public sealed class RunOperationOptionsTests
{
    [Fact]
    public void Configuration_OverridesTheIdempotencyWindowOverlapAndMisfireHandlingCodeSets()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FanOut:IdempotencyWindow"] = "02:00:00",
            ["FanOut:CronFanOuts:nightly:Overlap"] = "BufferOne",
            ["FanOut:CronFanOuts:nightly:MisfireHandling"] = "Strict",
        }).Build();
        var collection = new ServiceCollection().AddLogging().AddSingleton<global::Hangfire.JobStorage>(UnitStorage.Create());
        collection.Configure<FanOutOptions>(o => o.IdempotencyWindow = TimeSpan.FromHours(6));
        collection.AddFanOut(configuration.GetSection("FanOut"))
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: "due", o =>
            {
                o.Overlap = FanOutOverlap.Wait;
                o.MisfireHandling = FanOutMisfireHandling.Ignorable;
            })
            .AddHandler<NoopHandler>("notify", on: "due");
        using var provider = collection.AddSingleton(new TestItems()).BuildServiceProvider();

        var registry = provider.GetRequiredService<FanOutRegistry>();
        var cron = provider.GetRequiredService<IFanOutCatalog>().CronFanOuts.Single();

        registry.Options.IdempotencyWindow.Should().Be(TimeSpan.FromHours(2));
        (cron.Overlap, cron.MisfireHandling).Should().Be((FanOutOverlap.BufferOne, FanOutMisfireHandling.Strict));
    }

    [Fact]
    public async Task Startup_IdempotencyWindowOutOfRange_FailsNamingTheOptionAndValue()
    {
        var message = await TestHost.StartupFailureAsync(
            fanOut => fanOut.AddHandler<NoopHandler>("notify", on: "due"),
            services => services.Configure<FanOutOptions>(o => o.IdempotencyWindow = TimeSpan.Zero));

        message.Should().Contain("FanOutOptions.IdempotencyWindow must be between 1 second and 365 days, not 00:00:00");
    }
}
