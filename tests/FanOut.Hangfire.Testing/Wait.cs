namespace FanOut.Hangfire.Testing;

/// <summary>Polls a condition until it holds or a deadline passes; never a fixed sleep.</summary>
public static class Wait
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, () => Task.FromResult(describe()));

    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe) =>
        UntilAsync(condition, timeout, () => Task.FromResult(describe()));

    /// <summary>Waits for an asynchronous condition (a query, say); <paramref name="describe"/> may query too, for the failure message.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s: {await describe()}");
            }

            await Task.Delay(Interval);
        }
    }
}
