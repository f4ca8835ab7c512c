namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>Polls a condition until it holds or a deadline passes; never a fixed sleep.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s: {describe()}");
            }

            await Task.Delay(50);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s: {describe()}");
            }

            await Task.Delay(50);
        }
    }
}
