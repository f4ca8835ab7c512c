using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>The probe's decisions that need no database: it turns a storage down before it connects.</summary>
public sealed class FastPathProbeTests
{
    // Nothing listens there: a probe that connected would fail.
    private const string NoServer = "Host=127.0.0.1;Port=1;Database=jobs;Timeout=1";

    [Fact]
    public void Probe_AnotherStorage_TakesTheGenericPathWithoutAWarning()
    {
        var storage = TestHost.InMemory();
        try
        {
            var decision = FastPathProbe.Probe(storage);

            decision.Target.Should().BeNull();
            decision.Description.Should().Contain("generic Hangfire path").And.Contain("InMemoryStorage")
                .And.Contain("not Hangfire.PostgreSql's PostgreSqlStorage");
            decision.Warnings.Should().BeEmpty("UsePostgreSqlDispatch on a storage that is not PostgreSQL's is not a mistake worth a warning");
        }
        finally
        {
            ((IDisposable)storage).Dispose();
        }
    }

    [Fact]
    public void Probe_PostgreSqlStorageWithAnotherQueueProvider_DeclinesAndSaysWhy()
    {
        var options = new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = false };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(NoServer, options), options);
        storage.QueueProviders.Add(new OtherQueueProvider(), ["critical"]);

        var decision = FastPathProbe.Probe(storage);

        decision.Target.Should().BeNull();
        decision.Declined.Should().Contain("fast path").And.Contain("is off").And.Contain("queue provider other than Hangfire.PostgreSql's own");
        decision.Warnings.Should().Equal(decision.Declined);
    }

    [Fact]
    public void Decision_Warnings_AreTheDeclineThenTheAdvice()
    {
        var decision = new FastPathDecision(null, "the generic Hangfire path") { Advice = "advice", Declined = "declined" };

        decision.Warnings.Should().Equal("declined", "advice");
        new FastPathDecision(null, "the generic Hangfire path").Warnings.Should().BeEmpty();
    }

    /// <summary>A queue provider of an application's own, for some queue: rows the fast path would not know how to write.</summary>
    private sealed class OtherQueueProvider : IPersistentJobQueueProvider
    {
        public IPersistentJobQueue GetJobQueue() => throw new NotSupportedException();

        public IPersistentJobQueueMonitoringApi GetJobQueueMonitoringApi() => throw new NotSupportedException();
    }
}
