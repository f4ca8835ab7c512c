using Xunit.Sdk;

namespace FanOut.Hangfire.Tests.Units;

/// <summary>Waits for what another thread does (a continuation, a timer callback) by polling with a deadline.</summary>
internal static class Eventually
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    public static async Task HoldsAsync(Func<bool> condition, Func<string> what)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > Deadline)
            {
                throw new XunitException($"Waited {Deadline.TotalSeconds:F0} s in vain for {what()}.");
            }

            await Task.Delay(PollInterval);
        }
    }
}
