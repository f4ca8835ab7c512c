namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>The system clock, moved forward by hand: the library's timers run in real time, and its "now" jumps.</summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _shiftTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _shiftTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _shiftTicks));
}
