using System.Text;
using FanOut.Hangfire.Execution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FanOut.Hangfire.Tests.Units.Execution;

/// <summary>A call's log capture (design.md invariant 18): what it keeps within its caps, and whose flow it is.</summary>
public sealed class JobLogCaptureTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Add_PastMaxEntries_KeepsTheLastLinesAndCountsTheDropped()
    {
        var capture = Capture(new FanOutJobLogOptions { MaxEntries = 3 });

        for (var i = 1; i <= 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            capture.Add(LogLevel.Information, "Cat", $"line {i}", null);
        }

        var log = Read(capture);
        log.Entries.Select(e => e.Message).Should().Equal("line 3", "line 4", "line 5");
        log.DroppedEntries.Should().Be(2);
        log.Entries[0].Timestamp.Should().Be(new DateTimeOffset(2026, 12, 1, 9, 0, 3, TimeSpan.Zero), "lines are stamped by the TimeProvider");
    }

    [Fact]
    public void Add_ALineOverMaxBytes_IsCutToFit_WithoutSplittingACharacter()
    {
        var capture = Capture(new FanOutJobLogOptions { MaxBytes = 1024 });

        capture.Add(LogLevel.Error, "Cat", new string('é', 2_000), new InvalidOperationException("boom"));

        var entry = Read(capture).Entries.Should().ContainSingle().Subject;
        (Encoding.UTF8.GetByteCount(entry.Message) + Encoding.UTF8.GetByteCount(entry.Exception ?? string.Empty)).Should().BeLessThanOrEqualTo(1024);
        entry.Message.Should().EndWith("…").And.StartWith("éé");
        entry.Message.TrimEnd('…').All(c => c == 'é').Should().BeTrue("the cut falls between characters");
    }

    [Fact]
    public void Accepts_TheMinimumLevelAndAbove_NeverNone_AndNothingOnceClosed()
    {
        var capture = Capture(new FanOutJobLogOptions { MinimumLevel = LogLevel.Warning });

        capture.Accepts(LogLevel.Information).Should().BeFalse();
        capture.Accepts(LogLevel.Warning).Should().BeTrue();
        capture.Accepts(LogLevel.None).Should().BeFalse();
        capture.Close().Should().BeNull("a call that logged nothing stores nothing");
        capture.Accepts(LogLevel.Critical).Should().BeFalse();
        capture.Add(LogLevel.Critical, "Cat", "too late", null);
        capture.Close().Should().BeNull();
        JobLogCapture.For(new FanOutJobLogOptions { MinimumLevel = LogLevel.None }, _time).Should().BeNull("logs off capture nothing");
    }

    [Fact]
    public async Task Begin_FlowsIntoTheCallsTasks_NotIntoSuppressedFlow_AndEndsWithItsScope()
    {
        var capture = Capture(new FanOutJobLogOptions());
        JobLogCapture.Current.Should().BeNull();

        using (capture.Begin())
        {
            (await Task.Run(() => JobLogCapture.Current)).Should().BeSameAs(capture);
            Task<JobLogCapture?> unflowed;
            using (ExecutionContext.SuppressFlow())
            {
                unflowed = Task.Run(() => JobLogCapture.Current);
            }

            (await unflowed).Should().BeNull();
        }

        JobLogCapture.Current.Should().BeNull();
    }

    private JobLogCapture Capture(FanOutJobLogOptions options) => JobLogCapture.For(options, _time)!;

    private static FanOutJobLog Read(JobLogCapture capture) => JobLogCodec.Decode("1", 1, capture.Close())!;
}
