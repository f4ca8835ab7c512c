using System.Text;
using System.Text.Json;
using FanOut.Hangfire.Items;

namespace FanOut.Hangfire.Tests.Units.Items;

/// <summary>The key rule of the README ("Item keys") and the start-up check that an item type survives a JSON round trip.</summary>
public sealed class ItemJsonTests
{
    [Fact]
    public void KeyOf_AString_IsTheStringItself() =>
        ItemJson.KeyOf(ItemJson.Serialize("acct-42")).Should().Be("acct-42", "the JSON string's value is the key, without its quotes");

    [Theory]
    [InlineData("42", "42")]
    [InlineData("-1.5", "-1.5")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    public void KeyOf_ANumberOrBoolean_IsItsText(string json, string key) =>
        ItemJson.KeyOf(json).Should().Be(key);

    [Theory]
    [InlineData("""{"id":42,"channel":"#ops"}""", "42")]
    [InlineData("""{"channel":"#ops","id":"t-1"}""", "t-1")]
    [InlineData("""{"Id":"t-1"}""", "t-1")]
    [InlineData("""{"ID":7}""", "7")]
    [InlineData("""{"key":"k-1","name":"Acme"}""", "k-1")]
    [InlineData("""{"Key":9}""", "9")]
    public void KeyOf_AnObject_IsItsIdOrKeyProperty_InAnyCase(string json, string key) =>
        ItemJson.KeyOf(json).Should().Be(key);

    [Fact]
    public void KeyOf_ARecord_AsItemJsonWritesIt_IsItsId() =>
        ItemJson.KeyOf(ItemJson.Serialize(new Tenant("t-1", "Acme"))).Should().Be("t-1", "web defaults write Id as id");

    [Theory]
    [InlineData("""{"id":{"region":"eu","n":1}}""")]
    [InlineData("""{"id":[1,2]}""")]
    [InlineData("""{"id":true}""")]
    [InlineData("""{"id":null,"name":"Acme"}""")]
    [InlineData("""{"name":"Acme","size":2}""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("null")]
    public void KeyOf_AnythingElse_IsItsCompactJson(string json) =>
        ItemJson.KeyOf(json).Should().Be(json, "an id that is neither a string nor a number does not make a key");

    [Fact]
    public void KeyOf_AnIdThatIsAnObject_IsTheItemsCompactJson_AsItemJsonWritesIt() =>
        ItemJson.KeyOf(ItemJson.Serialize(new { Id = new { Region = "eu", Number = 1 } }))
            .Should().Be("""{"id":{"region":"eu","number":1}}""");

    [Fact]
    public void KeyOf_AKeyOf120Characters_IsKeptWhole()
    {
        var key = new string('k', 120);

        ItemJson.KeyOf(ItemJson.Serialize(key)).Should().Be(key);
    }

    [Fact]
    public void KeyOf_AKeyOf121Characters_IsShortened() =>
        ItemJson.KeyOf(ItemJson.Serialize(new string('k', 121))).Should().MatchRegex("^k{102}#[0-9a-f]{16}$");

    [Fact]
    public void KeyOf_AKeyOver120Characters_IsShortenedWithinThem_WithAHashOfTheWhole()
    {
        var key = new string('a', 200);

        var shortened = ItemJson.KeyOf(ItemJson.Serialize(key));

        // Pinned: keys are stored (job arguments, checkpoints, idempotency keys), so the same item must keep its key
        // from one version to the next. The suffix is the first 16 hex digits of the SHA-256 of the whole key's UTF-8.
        shortened.Should().Be(new string('a', 102) + "#c2a908d98f5df987");
    }

    [Fact]
    public void KeyOf_TwoLongKeysSharingTheirFirst120Characters_StayDistinct()
    {
        var prefix = new string('p', 150);

        var first = ItemJson.KeyOf(ItemJson.Serialize(prefix + "-1"));
        var second = ItemJson.KeyOf(ItemJson.Serialize(prefix + "-2"));

        first.Should().NotBe(second);
        first.Should().MatchRegex("^p{102}#[0-9a-f]{16}$");
        second.Should().MatchRegex("^p{102}#[0-9a-f]{16}$");
    }

    [Fact]
    public void KeyOf_ALongIdOrCompactJson_IsShortenedToo()
    {
        var longId = ItemJson.KeyOf(ItemJson.Serialize(new { Id = new string('i', 130) }));
        var longJson = ItemJson.KeyOf(ItemJson.Serialize(new { Name = new string('n', 130) }));

        longId.Should().MatchRegex("^i{102}#[0-9a-f]{16}$");
        longJson.Should().MatchRegex("""^\{"name":"n{93}#[0-9a-f]{16}$""");
    }

    [Fact]
    public void KeyOf_ALongKeyWithASurrogatePairAtTheCut_StaysWellFormedText()
    {
        // 101 letters, then an emoji whose two UTF-16 units straddle the cut after the 102nd character.
        var key = new string('a', 101) + "\U0001F600" + new string('b', 40);
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        var shortened = ItemJson.KeyOf(ItemJson.Serialize(key));

        // The key is stored in job arguments and checkpoints; Npgsql, for one, refuses text with a lone surrogate.
        shortened.Invoking(k => strictUtf8.GetByteCount(k))
            .Should().NotThrow("a shortened key must not split a character in two");
    }

    [Theory]
    [InlineData(typeof(string))]
    [InlineData(typeof(int))]
    [InlineData(typeof(Guid))]
    [InlineData(typeof(Tenant))]
    [InlineData(typeof(Settable))]
    [InlineData(typeof(WithRequiredMembers))]
    [InlineData(typeof(List<Tenant>))]
    [InlineData(typeof(Dictionary<string, int>))]
    [InlineData(typeof(JsonElement))]
    public void RoundTripProblem_OfATypeThatReadsBack_IsNull(Type type) =>
        ItemJson.RoundTripProblem(type).Should().BeNull();

    [Theory]
    [InlineData(typeof(IItem), "interface or abstract", nameof(IItem))]
    [InlineData(typeof(AbstractItem), "interface or abstract", nameof(AbstractItem))]
    [InlineData(typeof(TwoConstructors), "parameterless constructor", nameof(TwoConstructors))]
    public void RoundTripProblem_OfATypeThatCannotBeReadBack_SaysWhyNamingTheType(Type type, string why, string named) =>
        ItemJson.RoundTripProblem(type).Should().Contain(why).And.Contain(named);

    [Theory]
    [InlineData(typeof(List<IItem>), nameof(IItem))]
    [InlineData(typeof(WithInterfaceMember), nameof(IItem))]
    public void RoundTripProblem_OfATypeWithAMemberThatCannotBeReadBack_SaysWhy(Type type, string named)
    {
        // Such an item is written, and accepted by a send, but every job of its handlers fails to read it back.
        ItemJson.RoundTripProblem(type).Should().NotBeNull("the start-up check must find what the jobs would fail on")
            .And.Contain(named);
    }

    [Fact]
    public void RoundTripProblem_OfARefStruct_SaysWhy() =>
        ItemJson.RoundTripProblem(typeof(Span<int>)).Should().Contain("ref struct");
}
