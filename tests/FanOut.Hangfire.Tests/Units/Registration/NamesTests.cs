using FanOut.Hangfire.Registration;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>Ids and event names become parts of storage keys; queue names follow Hangfire's own rule.</summary>
public sealed class NamesTests
{
    [Theory]
    [InlineData("nightly")]
    [InlineData("billing/eu.nightly-v2")]
    [InlineData("Tenant_1.Due/Now-2")]
    [InlineData("a")]
    public void IdProblem_OfAValidId_IsNull(string id) =>
        Names.IdProblem(id).Should().BeNull();

    [Fact]
    public void IdProblem_OfAnIdOf100Characters_IsNull() =>
        Names.IdProblem(new string('a', 100)).Should().BeNull();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void IdProblem_OfAnEmptyId_IsThatItIsEmpty(string? id) =>
        Names.IdProblem(id).Should().Be("is empty");

    [Fact]
    public void IdProblem_OfAnIdOver100Characters_IsItsLength() =>
        Names.IdProblem(new string('a', 101)).Should().Be("is longer than 100 characters");

    [Theory]
    [InlineData("a:b", ':')]
    [InlineData("a b", ' ')]
    [InlineData("ä", 'ä')]
    [InlineData("a*", '*')]
    [InlineData("a\\b", '\\')]
    [InlineData("a#b", '#')]
    public void IdProblem_OfAnIdWithAForbiddenCharacter_NamesTheCharacter(string id, char forbidden) =>
        Names.IdProblem(id).Should().Be($"contains '{forbidden}'; use letters, digits, '-', '_', '.' and '/'");

    [Theory]
    [InlineData("default")]
    [InlineData("critical_1")]
    [InlineData("slack-eu")]
    public void QueueProblem_OfAValidQueue_IsNull(string queue) =>
        Names.QueueProblem(queue).Should().BeNull();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void QueueProblem_OfAnEmptyQueue_IsThatItIsEmpty(string? queue) =>
        Names.QueueProblem(queue).Should().Be("is empty");

    [Theory]
    [InlineData("Default", 'D')]
    [InlineData("a.b", '.')]
    [InlineData("a/b", '/')]
    [InlineData(" ", ' ')]
    [InlineData("é", 'é')]
    public void QueueProblem_OfAQueueWithACharacterHangfireRefuses_NamesTheCharacter(string queue, char refused) =>
        Names.QueueProblem(queue).Should().StartWith($"contains '{refused}';").And.Contain("lowercase letters, digits, '_' and '-'");

    [Fact]
    public void ThrowIfInvalidId_OfAnInvalidId_ThrowsForTheGivenParameter_NamingWhatAndValue()
    {
        var act = () => Names.ThrowIfInvalidId("a:b", "handler id", "id");

        act.Should().Throw<ArgumentException>()
            .WithParameterName("id")
            .WithMessage("The handler id 'a:b' contains ':'; use letters, digits, '-', '_', '.' and '/'.*");
    }

    [Fact]
    public void ThrowIfInvalidId_OfAnEmptyId_ThrowsForTheGivenParameter()
    {
        var act = () => Names.ThrowIfInvalidId(null, "event name", "sends");

        act.Should().Throw<ArgumentException>().WithParameterName("sends").WithMessage("The event name '' is empty.*");
    }

    [Fact]
    public void ThrowIfInvalidId_OfAValidId_DoesNotThrow()
    {
        var act = () => Names.ThrowIfInvalidId("billing/eu.nightly-v2", "cron fan-out id", "id");

        act.Should().NotThrow();
    }
}
