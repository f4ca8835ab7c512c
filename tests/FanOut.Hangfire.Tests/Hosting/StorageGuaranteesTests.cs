using FanOut.Hangfire.Hosting;
using FanOut.Hangfire.Telemetry;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace FanOut.Hangfire.Tests.Hosting;

public sealed class StorageGuaranteesTests
{
    [Fact]
    public void Check_StorageWithoutJobQueueProperty_WarnsThatRetriesRunOnTheDefaultQueue()
    {
        var warnings = new FanOutWarnings(TimeProvider.System, NullLogger<FanOutWarnings>.Instance);

        StorageGuarantees.Check(new QueuelessStorage(), new FanOutOptions(), warnings);

        warnings.Current.Should().ContainSingle().Which.Message.Should()
            .Contain(typeof(QueuelessStorage).FullName).And.Contain("JobQueueProperty").And.Contain("'default' queue");
    }

    [Fact]
    public void Check_InMemoryWithItsDefaultExpirationCap_WarnsThatRunsAreKeptForThreeHours()
    {
        var warnings = new FanOutWarnings(TimeProvider.System, NullLogger<FanOutWarnings>.Instance);

        StorageGuarantees.Check(TestHost.InMemory(), new FanOutOptions(), warnings);

        warnings.Current.Should().ContainSingle().Which.Message.Should()
            .Contain("MaxExpirationTime").And.Contain("03:00:00").And.Contain("RunRetention").And.Contain("IdempotencyWindow");
    }

    [Fact]
    public void Check_InMemoryCappedBelowTheIdempotencyWindowOnly_WarnsThatKeysAreForgottenAtTheCap()
    {
        var warnings = new FanOutWarnings(TimeProvider.System, NullLogger<FanOutWarnings>.Instance);
        var storage = new global::Hangfire.InMemory.InMemoryStorage(new global::Hangfire.InMemory.InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromDays(10) });

        StorageGuarantees.Check(storage, new FanOutOptions { IdempotencyWindow = TimeSpan.FromDays(30) }, warnings);

        warnings.Current.Should().ContainSingle().Which.Message.Should()
            .Contain("10.00:00:00").And.Contain("IdempotencyWindow (30.00:00:00)").And.NotContain("RunRetention");
    }

    [Fact]
    public void Check_InMemoryWithoutExpirationCap_RaisesNothing()
    {
        var warnings = new FanOutWarnings(TimeProvider.System, NullLogger<FanOutWarnings>.Instance);
        var storage = new global::Hangfire.InMemory.InMemoryStorage(new global::Hangfire.InMemory.InMemoryStorageOptions { MaxExpirationTime = null });

        StorageGuarantees.Check(storage, new FanOutOptions(), warnings);

        warnings.Current.Should().BeEmpty();
    }

    private sealed class QueuelessStorage : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => throw new NotSupportedException();

        public override IStorageConnection GetConnection() => throw new NotSupportedException();

        public override bool HasFeature(string featureId) => false;
    }
}
