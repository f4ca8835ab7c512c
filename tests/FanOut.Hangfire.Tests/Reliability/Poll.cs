namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>Polls an asynchronous condition (usually a query) until it holds or a deadline passes; never a fixed sleep.</summary>
internal static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {await describe()}");
            }

            await Task.Delay(Interval);
        }
    }
}
