using System.Text.Json;
using FanOut.Hangfire.Items;

namespace FanOut.Hangfire.Tests.Units.Items;

/// <summary>What a child job stores of an item, and the clear refusal of items it could not store or read back.</summary>
public sealed class ItemEncoderTests
{
    private const string Event = "tenant/due";

    [Fact]
    public void Encode_AString_GivesItsKeyAndItsJson()
    {
        var encoded = new ItemEncoder(Event, typeof(string), 1024).Encode("t-1", 0);

        encoded.Should().Be(new EncodedItem("t-1", "\"t-1\""));
    }

    [Fact]
    public void Encode_ARecord_GivesItsIdAsKey_AndItsWebJson()
    {
        var encoded = new ItemEncoder(Event, typeof(Tenant), 1024).Encode(new Tenant("t-1", "Acme"), 0);

        encoded.Should().Be(new EncodedItem("t-1", """{"id":"t-1","name":"Acme"}"""));
    }

    [Fact]
    public void Encode_Null_ThrowsForItems_NamingThePositionAndTheEvent()
    {
        var encoder = new ItemEncoder(Event, typeof(string), 1024);

        encoder.Invoking(e => e.Encode<string?>(null, 3))
            .Should().Throw<ArgumentException>()
            .WithParameterName("items")
            .WithMessage($"Item #3 sent as event '{Event}' is null*");
    }

    [Fact]
    public void Encode_Null_ThrowsForTheParameterTheCallerNames()
    {
        var encoder = new ItemEncoder(Event, typeof(string), 1024);

        encoder.Invoking(e => e.Encode<string?>(null, 0, paramName: "item"))
            .Should().Throw<ArgumentException>()
            .WithParameterName("item");
    }

    [Fact]
    public void Encode_AnItemOfExactlyMaxItemBytes_IsAccepted()
    {
        var encoder = new ItemEncoder(Event, typeof(string), 64);

        // 62 characters and two quotes: 64 bytes of JSON.
        encoder.Encode(new string('x', 62), 0).Json.Should().HaveLength(64);
    }

    [Fact]
    public void Encode_AnItemOverMaxItemBytes_ThrowsForItems_NamingTheEventPositionSizeAndLimit()
    {
        var encoder = new ItemEncoder(Event, typeof(string), 64);

        encoder.Invoking(e => e.Encode(new string('x', 63), 7))
            .Should().Throw<ArgumentException>()
            .WithParameterName("items")
            .WithMessage($"Item #7 sent as event '{Event}' is 65 bytes of JSON, over the limit of 64 (FanOutOptions.MaxItemBytes)*");
    }

    [Fact]
    public void Encode_CountsANonAsciiCharacterAsTheEscapeStored()
    {
        // The limit is on what child jobs store: web defaults write 'é' as a six-byte \u escape (not its two bytes of
        // UTF-8), so ten of them and the quotes are 62 bytes.
        var encoder = new ItemEncoder(Event, typeof(string), 61);

        encoder.Invoking(e => e.Encode(new string('é', 10), 0))
            .Should().Throw<ArgumentException>()
            .WithMessage("*62 bytes of JSON, over the limit of 61*");
    }

    [Fact]
    public void Encode_AnItemThatCannotBeWritten_ThrowsForItems_SayingWhy()
    {
        var looped = new Node();
        looped.Next = looped;
        var encoder = new ItemEncoder(Event, typeof(Node), 1024);

        encoder.Invoking(e => e.Encode(looped, 4))
            .Should().Throw<ArgumentException>()
            .WithParameterName("items")
            .WithMessage($"Item #4 sent as event '{Event}' cannot be written as JSON: *cycle*")
            .WithInnerException<JsonException>();
    }

    [Fact]
    public void Encode_AnItemSystemTextJsonRefusesToWrite_ThrowsForItems()
    {
        var encoder = new ItemEncoder(Event, typeof(WithType), 1024);

        encoder.Invoking(e => e.Encode(new WithType("w-1", typeof(int)), 0))
            .Should().Throw<ArgumentException>()
            .WithParameterName("items")
            .WithMessage("*cannot be written as JSON*")
            .WithInnerException<NotSupportedException>();
    }

    [Fact]
    public void Encode_AnItemNotReadableAsTheEventsItemType_ThrowsForItems_NamingTheType()
    {
        var encoder = new ItemEncoder(Event, typeof(int), 1024);

        encoder.Invoking(e => e.Encode("not-a-number", 2))
            .Should().Throw<ArgumentException>()
            .WithParameterName("items")
            .WithMessage($"Item #2 sent as event '{Event}' cannot be read as Int32, the item type of its handlers: *")
            .WithInnerException<JsonException>();
    }

    [Fact]
    public void Encode_AnItemThatReadsBackAsNull_ThrowsForItems()
    {
        var encoder = new ItemEncoder(Event, typeof(Tenant), 1024);

        encoder.Invoking(e => e.Encode(new Ghost(), 0))
            .Should().Throw<ArgumentException>()
            .WithParameterName("items")
            .WithMessage("*cannot be read as Tenant*reads back as null*");
    }

    [Fact]
    public void Encode_AnotherTypeReadableAsTheEventsItemType_IsAccepted()
    {
        var encoder = new ItemEncoder(Event, typeof(Tenant), 1024);

        var encoded = encoder.Encode<object>(new { Id = "t-1", Name = "Acme" }, 0);

        encoded.Should().Be(new EncodedItem("t-1", """{"id":"t-1","name":"Acme"}"""));
    }
}
