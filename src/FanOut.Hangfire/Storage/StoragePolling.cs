namespace FanOut.Hangfire.Storage;

/// <summary>
/// The loop of the background services that look at the storage at an interval (completion monitor, server watch,
/// dispatch recovery): a look that fails is reported and the next one tries again, since storage outages are expected
/// and temporary; shutdown ends the loop.
/// </summary>
internal static class StoragePolling
{
    /// <summary>
    /// Runs <paramref name="look"/> every <paramref name="interval"/> until <paramref name="stoppingToken"/> fires; the first
    /// look comes at once when <paramref name="firstAtOnce"/>, else one interval after start.
    /// </summary>
    public static async Task RunAsync(
        Func<TimeSpan> interval,
        TimeProvider time,
        bool firstAtOnce,
        Action look,
        Action<Exception>? failed,
        CancellationToken stoppingToken)
    {
        var wait = !firstAtOnce;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (wait)
            {
                try
                {
                    await Task.Delay(interval(), time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            wait = true;
            try
            {
                look();
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                failed?.Invoke(ex);
            }
        }
    }
}
