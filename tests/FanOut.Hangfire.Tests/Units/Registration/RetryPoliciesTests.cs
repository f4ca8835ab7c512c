using FanOut.Hangfire.Registration;
using Hangfire;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>Hangfire schedules retries in whole seconds: a configured delay is rounded up, never shortened.</summary>
public sealed class RetryPoliciesTests
{
    [Fact]
    public void Create_RoundsEachDelayUpToWholeSeconds()
    {
        TimeSpan[] delays =
        [
            TimeSpan.Zero,
            TimeSpan.FromMilliseconds(1),
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(1.5),
            TimeSpan.FromSeconds(2) + TimeSpan.FromTicks(1),
            TimeSpan.FromMinutes(90),
        ];

        var retry = RetryPolicies.Create(3, delays);

        retry.DelaysInSeconds.Should().Equal(0, 1, 1, 2, 3, 5400);
    }

    [Fact]
    public void Create_TakesTheAttempts_AndFailsTheJobOnceTheyRunOut()
    {
        var retry = RetryPolicies.Create(4, []);

        retry.Attempts.Should().Be(4);
        retry.OnAttemptsExceeded.Should().Be(AttemptsExceededAction.Fail, "a job out of retries ends Failed, visible and requeueable");
    }

    [Fact]
    public void Create_WithNoAttempts_RetriesNever() =>
        RetryPolicies.Create(0, []).Attempts.Should().Be(0);

    [Fact]
    public void Create_WithNoDelays_LeavesHangfiresOwnBackOff() =>
        RetryPolicies.Create(3, []).DelaysInSeconds.Should().BeNull("no delays means Hangfire's growing back-off");
}
