using FanOut.Hangfire.Storage;

namespace FanOut.Hangfire.Tests.Units.Storage;

/// <summary>
/// How ids with '/', '.' and '-' compose into keys, and which recurring jobs the library takes as its own. The layout
/// itself is a stored contract, pinned by the contract tests.
/// </summary>
public sealed class StorageKeysTests
{
    [Fact]
    public void Keys_OfIdsWithSlashesDotsAndDashes_KeepTheIdsWhole()
    {
        const string FanOutId = "billing/eu.nightly-v2";
        const string HandlerId = "send/slack.v2-eu";

        StorageKeys.RecurringJob(FanOutId).Should().Be("fanout:billing/eu.nightly-v2");
        StorageKeys.Lease(FanOutId).Should().Be("fanout:lease:billing/eu.nightly-v2");
        StorageKeys.LeaseLock(FanOutId).Should().Be("fanout:lease-lock:billing/eu.nightly-v2");
        StorageKeys.RunList("tenant/due.v2-eu").Should().Be("fanout:runs:tenant/due.v2-eu");
        StorageKeys.Outcome("0195", HandlerId, "failed").Should().Be("fanout:run:0195:send/slack.v2-eu:failed");
    }

    [Theory]
    [InlineData("a/b", "a.b")]
    [InlineData("a.b", "a-b")]
    [InlineData("a-b", "a_b")]
    [InlineData("a/b", "a/b/")]
    public void Keys_OfIdsThatDifferOnlyInAPunctuationMark_StayApart(string one, string other)
    {
        StorageKeys.RecurringJob(one).Should().NotBe(StorageKeys.RecurringJob(other));
        StorageKeys.Lease(one).Should().NotBe(StorageKeys.Lease(other));
        StorageKeys.Outcome("r1", one, "failed").Should().NotBe(StorageKeys.Outcome("r1", other, "failed"));
    }

    [Theory]
    [InlineData("nightly")]
    [InlineData("billing/eu.nightly-v2")]
    [InlineData("runs")]
    public void IsOwnedRecurringJob_OfTheRecurringJobOfAFanOut_IsTrue(string fanOutId) =>
        StorageKeys.IsOwnedRecurringJob(StorageKeys.RecurringJob(fanOutId)).Should().BeTrue();

    [Theory]
    [InlineData("nightly")]
    [InlineData("fanout")]
    [InlineData("fanout-nightly")]
    [InlineData("fanout/nightly")]
    [InlineData("FanOut:nightly")]
    [InlineData("FANOUT:nightly")]
    [InlineData("my-fanout:nightly")]
    [InlineData(" fanout:nightly")]
    [InlineData("")]
    public void IsOwnedRecurringJob_OfAnyOtherRecurringJob_IsFalse(string recurringJobId) =>
        StorageKeys.IsOwnedRecurringJob(recurringJobId).Should().BeFalse("the library never touches a recurring job it does not own");
}
