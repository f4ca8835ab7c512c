using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Tests.Units.Dispatch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>
/// Limits as declared: bad values fail at start-up naming the handler (or shared limit), the option and the value;
/// configuration overrides code; a key function's failures are reported per item, naming handler and item.
/// </summary>
public sealed class LimitRegistrationTests
{
    private static readonly Dictionary<string, (Action<IFanOutBuilder> Declare, string[] Named)> Invalid = new()
    {
        ["ConcurrencyLimit 0"] = (f => Handler(f, h => h.ConcurrencyLimit = 0), ["Handler 'notify': ConcurrencyLimit must be between 1 and 100000, not 0."]),
        ["ConcurrencyLimit too big"] = (f => Handler(f, h => h.ConcurrencyLimit = 100_001), ["Handler 'notify': ConcurrencyLimit must be between 1 and 100000, not 100001."]),
        ["ConcurrencyLimitPerKey -1"] = (f => Handler(f, h => { h.ConcurrencyLimitPerKey = -1; h.UseConcurrencyKey<string>(i => i); }), ["Handler 'notify': ConcurrencyLimitPerKey must be between 1 and 100000, not -1."]),
        ["per key above global"] = (f => Handler(f, h => { h.ConcurrencyLimit = 2; h.ConcurrencyLimitPerKey = 3; h.UseConcurrencyKey<string>(i => i); }), ["Handler 'notify': ConcurrencyLimitPerKey (3) is more than ConcurrencyLimit (2)"]),
        ["Throttle.PermitLimit 0"] = (f => Handler(f, h => h.Throttle.PermitLimit = 0), ["Handler 'notify': Throttle.PermitLimit must be between 1 and 100000, not 0."]),
        ["Throttle.Window 99 ms"] = (f => Handler(f, h => { h.Throttle.PermitLimit = 1; h.Throttle.Window = TimeSpan.FromMilliseconds(99); }), ["Handler 'notify': Throttle.Window must be between 100 milliseconds and 1 day, not 00:00:00.0990000."]),
        ["Throttle.Burst 0"] = (f => Handler(f, h => { h.Throttle.PermitLimit = 1; h.Throttle.Burst = 0; }), ["Handler 'notify': Throttle.Burst must be between 1 and 100000, not 0."]),
        ["per key without a key"] = (f => Handler(f, h => h.ConcurrencyLimitPerKey = 2), ["Handler 'notify': its ConcurrencyLimitPerKey limits calls per key, but the handler has no key; set one with UseConcurrencyKey<String>"]),
        ["a key without a per-key limit"] = (f => Handler(f, h => { h.ConcurrencyLimit = 2; h.UseConcurrencyKey<string>(i => i); }), ["Handler 'notify' sets a concurrency key, but the handler has no ConcurrencyLimitPerKey"]),
        ["a throttle key without a throttle"] = (f => Handler(f, h => { h.ConcurrencyLimit = 2; h.UseThrottleKey<string>(i => i); }), ["Handler 'notify' sets a throttle key, but the handler has no Throttle.PermitLimit"]),
        ["a key and no limit"] = (f => Handler(f, h => h.UseConcurrencyKey<string>(i => i)), ["Handler 'notify' sets a limit key but no limit"]),
        ["a key of another item type"] = (f => Handler(f, h => { h.ConcurrencyLimitPerKey = 1; h.UseConcurrencyKey<int>(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)); }), ["Handler 'notify': UseConcurrencyKey<Int32> takes Int32, but the handler's items are String."]),
        ["an undeclared shared limit"] = (f => Handler(f, h => h.Limit = "slack-api"), ["Handler 'notify' uses the limit 'slack-api', which is not declared; declare it with AddLimit(\"slack-api\", ...)."]),
        ["a shared limit and own settings"] = (f => Handler(f.AddLimit("slack-api", l => l.ConcurrencyLimit = 2), h => { h.Limit = "slack-api"; h.ConcurrencyLimit = 3; }), ["Handler 'notify' uses the shared limit 'slack-api' and sets limits of its own"]),
        ["a shared limit limiting nothing"] = (f => Handler(f.AddLimit("slack-api", _ => { }), h => h.Limit = "slack-api"), ["Limit 'slack-api' limits nothing"]),
        ["a shared limit no handler uses"] = (f => Handler(f.AddLimit("slack-api", l => l.ConcurrencyLimit = 1), _ => { }), ["Limit 'slack-api' is declared, but no handler uses it"]),
        ["a shared per-key limit and a handler without a key"] = (f => Handler(f.AddLimit("slack-api", l => l.ConcurrencyLimitPerKey = 1), h => h.Limit = "slack-api"), ["Handler 'notify': the limit 'slack-api' limits calls per key, but the handler has no key"]),
    };

    public static TheoryData<string> InvalidCases => [.. Invalid.Keys];

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Registry_InvalidLimit_FailsNamingTheHandlerOptionAndValue(string @case)
    {
        var (declare, named) = Invalid[@case];
        using var services = new UnitServices(declare);

        var thrown = services.Invoking(s => s.Get<FanOutRegistry>()).Should().Throw<InvalidOperationException>().Which;

        foreach (var part in named)
        {
            thrown.Message.Should().Contain(part);
        }
    }

    [Fact]
    public void AddLimit_SameNameTwice_ThrowsNamingIt()
    {
        using var services = new UnitServices(f => f.AddLimit("slack-api", l => l.ConcurrencyLimit = 1)
            .Invoking(b => b.AddLimit("Slack-API", l => l.ConcurrencyLimit = 2))
            .Should().Throw<ArgumentException>().WithMessage("*'Slack-API' is already declared*"));
    }

    [Fact]
    public void Configuration_OverridesTheLimitsCodeSets()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FanOut:Handlers:notify:ConcurrencyLimit"] = "7",
            ["FanOut:Handlers:notify:Throttle:PermitLimit"] = "5",
            ["FanOut:Handlers:notify:Throttle:Window"] = "00:01:00",
            ["FanOut:Limits:slack-api:ConcurrencyLimit"] = "9",
        }).Build();
        var collection = new ServiceCollection().AddLogging().AddSingleton<global::Hangfire.JobStorage>(UnitStorage.Create());
        collection.AddFanOut(configuration.GetSection("FanOut"))
            .AddLimit("slack-api", l => l.ConcurrencyLimit = 2)
            .AddHandler<NoopHandler>("notify", on: "due", h => h.ConcurrencyLimit = 3)
            .AddHandler<NoopHandler>("remind", on: "due", h => h.Limit = "slack-api");
        using var provider = collection.BuildServiceProvider();

        var registry = provider.GetRequiredService<FanOutRegistry>();

        registry.FindHandler("notify")!.Limit!.Budget.Should().BeEquivalentTo(new
        {
            Name = "notify",
            Shared = false,
            ConcurrencyLimit = 7,
            ThrottlePermitLimit = 5,
            ThrottleWindow = TimeSpan.FromMinutes(1),
            StorageId = "handler:notify",
        });
        registry.FindHandler("remind")!.Limit!.Budget.Should().BeEquivalentTo(new { Name = "slack-api", Shared = true, ConcurrencyLimit = 9, StorageId = "limit:slack-api" });
        registry.Limits.Select(l => l.StorageId).Should().Equal("handler:notify", "limit:slack-api");
    }

    [Theory]
    [InlineData("throw", "The concurrency key function of handler 'notify' threw for item '\"throw\"': FormatException: bad")]
    [InlineData("null", "The concurrency key function of handler 'notify' returned null for item '\"null\"'; every item needs a key.")]
    [InlineData("empty", "returned an empty string for item '\"empty\"'")]
    [InlineData("long", "The concurrency key of handler 'notify' for item '\"long\"' is 201 characters long; keys are at most 200.")]
    public void KeysOf_ABadKey_SaysWhatIsWrongNamingHandlerAndItem(string item, string expected)
    {
        var limit = new HandlerLimit(
            new RegisteredLimit("notify", false, null, 1, null, TimeSpan.FromSeconds(1), 1),
            typeof(string),
            o => (string?)o switch
            {
                "throw" => throw new FormatException("bad"),
                "null" => null,
                "empty" => string.Empty,
                "long" => new string('k', 201),
                var other => other,
            },
            null);

        var keys = limit.KeysOf("notify", $"\"{item}\"", $"\"{item}\"");

        keys.Problem.Should().Contain(expected);
    }

    [Fact]
    public void KeysOf_AGoodKey_GivesItWithNoProblem()
    {
        var limit = new HandlerLimit(new RegisteredLimit("notify", false, null, 1, 1, TimeSpan.FromSeconds(1), 1), typeof(string), o => "w-" + o, o => "c-" + o);

        limit.KeysOf("notify", "x", "\"x\"").Should().Be(new LimitKeys("w-x", "c-x", null));
    }

    private static void Handler(IFanOutBuilder fanOut, Action<FanOutHandlerOptions> configure) =>
        fanOut.AddHandler<NoopHandler>("notify", on: "due", configure);
}
