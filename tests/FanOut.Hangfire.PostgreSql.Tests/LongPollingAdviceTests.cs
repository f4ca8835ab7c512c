using Hangfire.PostgreSql;

namespace FanOut.Hangfire.PostgreSql.Tests;

public sealed class LongPollingAdviceTests
{
    [Theory]
    [InlineData(true, 0, true)]
    [InlineData(true, 1, false)]
    [InlineData(false, 0, false)]
    [InlineData(false, 1, false)]
    public void For_AdvisesAKeepaliveOnlyWhenLongPollingIsOnWithoutOne(bool longPolling, int keepalive, bool advised)
    {
        var options = new PostgreSqlStorageOptions { EnableLongPolling = longPolling };

        var advice = LongPollingAdvice.For(options, $"Host=127.0.0.1;Database=jobs;Keepalive={keepalive}");

        if (advised)
        {
            advice.Should().Contain("long polling").And.Contain("Keepalive=1");
        }
        else
        {
            advice.Should().BeNull();
        }
    }

    [Fact]
    public void For_LongPollingOnAndNoKeepaliveInTheConnectionString_Advises()
    {
        var options = new PostgreSqlStorageOptions { EnableLongPolling = true };

        var advice = LongPollingAdvice.For(options, "Host=127.0.0.1;Database=jobs");

        advice.Should().Contain("Keepalive=1", "Npgsql's default is no keepalive");
    }
}
