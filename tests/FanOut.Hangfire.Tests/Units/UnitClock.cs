using Microsoft.Extensions.Time.Testing;

namespace FanOut.Hangfire.Tests.Units;

/// <summary>
/// A fake clock set to a fixed instant, so that stored timestamps can be asserted exactly. It records the due time of
/// every timer created on it (each <c>Task.Delay</c> on it creates one), so a test can see how long code waits without
/// racing the continuation that runs once the clock passes it.
/// </summary>
internal sealed class UnitClock : FakeTimeProvider
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 6, 0, 0, TimeSpan.Zero);

    private readonly List<TimeSpan> _timerDueTimes = [];

    public UnitClock() => SetUtcNow(T0);

    public IReadOnlyList<TimeSpan> TimerDueTimes
    {
        get
        {
            lock (_timerDueTimes)
            {
                return [.. _timerDueTimes];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_timerDueTimes)
        {
            _timerDueTimes.Add(dueTime);
        }

        return base.CreateTimer(callback, state, dueTime, period);
    }
}
