using Hangfire;

namespace FanOut.Hangfire.Registration;

/// <summary>Builds the Hangfire retry filter for a configured number of attempts and delays.</summary>
internal static class RetryPolicies
{
    public static AutomaticRetryAttribute Create(int attempts, IList<TimeSpan> delays)
    {
        var retry = new AutomaticRetryAttribute
        {
            Attempts = attempts,
            OnAttemptsExceeded = AttemptsExceededAction.Fail,
        };
        if (delays.Count > 0)
        {
            // Hangfire schedules in whole seconds; round up so a configured delay is never shortened.
            retry.DelaysInSeconds = delays.Select(d => (int)Math.Ceiling(d.TotalSeconds)).ToArray();
        }

        return retry;
    }
}
