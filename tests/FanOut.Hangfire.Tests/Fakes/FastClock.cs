namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>
/// A clock that runs a given number of times faster than the real one, timers included, so that minutes of a process's
/// life pass in seconds with every timer firing on its own. A <c>FakeTimeProvider</c> advanced by hand cannot stand in
/// for it when a loop re-arms its timer after each tick (a lease's keep-alive): an advance that lands before the loop
/// re-armed skips a tick, and the test waits for a tick that no advance will bring.
/// </summary>
public sealed class FastClock(double speed) : TimeProvider
{
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
    private readonly long _started = System.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => _start + System.GetElapsedTime(_started) * speed;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new FastTimer(System.CreateTimer(callback, state, Real(dueTime), Real(period)), this);

    private TimeSpan Real(TimeSpan span) => span == Timeout.InfiniteTimeSpan || span <= TimeSpan.Zero ? span : span / speed;

    private sealed class FastTimer(ITimer timer, FastClock clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => timer.Change(clock.Real(dueTime), clock.Real(period));

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }
}
