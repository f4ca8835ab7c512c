using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Tests.Batches;
using FanOut.Hangfire.Tests.Units.Dispatch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>
/// Batch handlers as declared: bad options fail at start-up naming the handler, the option and the value; batch options
/// on an item handler fail the same way; configuration overrides the batch size; a batch key's failures are reported
/// per item, naming the handler and item.
/// </summary>
public sealed class BatchRegistrationTests
{
    private static readonly Dictionary<string, (Action<IFanOutBuilder> Declare, string Named)> Invalid = new()
    {
        ["MaxBatchSize 0"] = (f => f.AddBatchHandler<ScriptedBatchHandler>("bulk", on: "e", h => h.MaxBatchSize = 0), "Handler 'bulk': MaxBatchSize must be between 1 and 1000, not 0."),
        ["MaxBatchSize 1001"] = (f => f.AddBatchHandler<ScriptedBatchHandler>("bulk", on: "e", h => h.MaxBatchSize = 1001), "Handler 'bulk': MaxBatchSize must be between 1 and 1000, not 1001."),
        ["MaxBatchSize on an item handler"] = (f => f.AddHandler<RecordingHandler>("one", on: "e", h => h.MaxBatchSize = 10), "Handler 'one' sets MaxBatchSize, which only a batch handler has; declare it with AddBatchHandler"),
        ["a batch key on an item handler"] = (f => f.AddHandler<RecordingHandler>("one", on: "e", h => h.UseBatchKey<string>(i => i)), "Handler 'one' sets a batch key (UseBatchKey), which only a batch handler has"),
        ["a batch key of another item type"] = (f => f.AddBatchHandler<ScriptedBatchHandler>("bulk", on: "e", h => h.UseBatchKey<int>(i => "x")), "Handler 'bulk': UseBatchKey<Int32> takes Int32, but the handler's items are String."),
    };

    public static TheoryData<string> InvalidCases => [.. Invalid.Keys];

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Registry_InvalidBatchOption_FailsNamingTheHandlerOptionAndValue(string @case)
    {
        var (declare, named) = Invalid[@case];
        using var services = new UnitServices(declare);

        services.Invoking(s => s.Get<FanOutRegistry>()).Should().Throw<InvalidOperationException>().Which.Message.Should().Contain(named);
    }

    [Fact]
    public void AddBatchHandler_AClassThatIsNoBatchHandler_ThrowsNamingIt()
    {
        using var services = new UnitServices(f => f.Invoking(b => b.AddBatchHandler<RecordingHandler>("bulk", on: "e"))
            .Should().Throw<ArgumentException>().WithMessage("*RecordingHandler does not implement IFanOutBatchHandler<TItem>*"));
    }

    [Fact]
    public void Registry_BatchHandler_DefaultsTo100_AndConfigurationOverridesTheSize()
    {
        using var defaults = new UnitServices(f => f.AddBatchHandler<ScriptedBatchHandler>("bulk", on: "e"));
        defaults.Get<FanOutRegistry>().FindHandler("bulk")!.Batch!.MaxSize.Should().Be(100);

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["FanOut:Handlers:bulk:MaxBatchSize"] = "250" }).Build();
        var collection = new ServiceCollection().AddLogging().AddSingleton<global::Hangfire.JobStorage>(UnitStorage.Create());
        collection.AddFanOut(configuration.GetSection("FanOut")).AddBatchHandler<ScriptedBatchHandler>("bulk", on: "e", h => h.MaxBatchSize = 50);
        using var provider = collection.BuildServiceProvider();

        provider.GetRequiredService<FanOutRegistry>().FindHandler("bulk")!.Batch!.MaxSize.Should().Be(250, "configuration wins over code");
    }

    [Theory]
    [InlineData("throws", "The batch key function of handler 'bulk' threw for item 'throws': InvalidOperationException: no workspace")]
    [InlineData("empty", "The batch key function of handler 'bulk' returned an empty string for item 'empty'; every item needs a key.")]
    [InlineData("long", "The batch key of handler 'bulk' for item 'long' is 201 characters long; keys are at most 200.")]
    public void BatchKey_ThatCannotBeComputed_SaysWhyNamingTheHandlerAndItem(string item, string problem)
    {
        using var services = new UnitServices(f => f.AddBatchHandler<ScriptedBatchHandler>("bulk", on: "e", h => h.UseBatchKey<string>(i => i switch
        {
            "throws" => throw new InvalidOperationException("no workspace"),
            "empty" => string.Empty,
            _ => new string('k', 201),
        })));
        var batch = services.Get<FanOutRegistry>().FindHandler("bulk")!.Batch!;

        batch.KeyOf("bulk", batch.Keyed(item, $"\"{item}\""), out var found);

        found.Should().Be(problem);
    }
}
