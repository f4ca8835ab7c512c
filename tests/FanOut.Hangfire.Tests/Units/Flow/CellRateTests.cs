using FanOut.Hangfire.Flow;

namespace FanOut.Hangfire.Tests.Units.Flow;

public sealed class CellRateTests
{
    [Fact]
    public void Reserve_NoBurst_SpacesStartsOneIntervalApart_AndAnIdleSpellDoesNotBankStarts()
    {
        var (first, next) = CellRate.Reserve(theoretical: 1_000, now: 1_000, interval: 250, burst: 1);
        (first, next).Should().Be((1_000L, 1_250L));

        var (second, after) = CellRate.Reserve(next, now: 1_010, interval: 250, burst: 1);
        second.Should().Be(1_250, "a start asked for 10 ms after the last one waits for the interval");
        after.Should().Be(1_500);

        var (idle, _) = CellRate.Reserve(after, now: 9_000, interval: 250, burst: 1);
        idle.Should().Be(9_000, "after an idle spell the next start is now, and only one");
        CellRate.Reserve(9_250, now: 9_000, interval: 250, burst: 1).Start.Should().Be(9_250);
    }

    [Fact]
    public void Reserve_BurstOfThree_LetsThreeStartAtOnceAfterAnIdleSpell_ThenSpacesThem()
    {
        var theoretical = 0L;
        var starts = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            (var start, theoretical) = CellRate.Reserve(theoretical, now: 10_000, interval: 100, burst: 3);
            starts.Add(start);
        }

        starts.Should().Equal(10_000, 10_000, 10_000, 10_100, 10_200);
    }
}
