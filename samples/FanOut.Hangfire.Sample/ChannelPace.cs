namespace FanOut.Hangfire.Sample;

/// <summary>
/// Slack's rule for posting: at most one message per second per channel. A message is measured from the arrival of the
/// last message accepted in its channel.
/// </summary>
internal sealed class ChannelPace(TimeProvider time)
{
    /// <summary>One message per this, per channel.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    // What arrivals may be early by. Calls spaced a second apart at their starts still have their requests arrive here a
    // little less than a second apart at times: each request leaves its call a moment after the call starts, and that
    // moment differs from one call to the next. 50 ms covers that jitter; any second message well within the second is
    // rejected.
    public static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<string, long> _lastPosts = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>
    /// Accepts a message into <paramref name="channel"/> now, or says how long until the channel takes one.
    /// </summary>
    public bool TryPost(string channel, out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_lastPosts.TryGetValue(channel, out var last))
            {
                var gap = time.GetElapsedTime(last, now);
                if (gap < Interval - Tolerance)
                {
                    retryAfter = Interval - gap;
                    return false;
                }
            }

            _lastPosts[channel] = now;
            retryAfter = TimeSpan.Zero;
            return true;
        }
    }
}
