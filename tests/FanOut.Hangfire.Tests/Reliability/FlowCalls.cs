using System.Diagnostics;
using System.Globalization;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// One handler call as a test host recorded it in its call file (tests/FanOut.Hangfire.TestHost/CallFile.cs): the
/// handler's own record, never the library's counters. Times are <see cref="Stopwatch.GetTimestamp"/> values, the
/// machine's monotonic clock, which the test and every host share. <see cref="EndedAt"/> is null for a call whose
/// process died before it returned.
/// </summary>
public sealed record FlowCall(int Pid, long JobId, string Item, int Attempt, long StartedAt, long? EndedAt, bool Succeeded)
{
    /// <summary>The concurrency key the test host gives its items: the text before the first '-'.</summary>
    public string Key => CallLog.KeyOf(Item);

    /// <summary>Whether the call was running at <paramref name="timestamp"/>.</summary>
    public bool RunsAt(long timestamp) => StartedAt <= timestamp && (EndedAt is not { } ended || ended > timestamp);
}

/// <summary>Reads the call files of a folder the test hosts share, and measures concurrency from them.</summary>
internal static class FlowCalls
{
    /// <summary>Every call of every process that wrote to <paramref name="folder"/>; a line cut short by a kill is left out.</summary>
    public static List<FlowCall> Read(string folder)
    {
        var calls = new List<FlowCall>();
        if (!Directory.Exists(folder))
        {
            return calls;
        }

        foreach (var path in Directory.GetFiles(folder, "calls-*.log"))
        {
            var pid = int.Parse(Path.GetFileNameWithoutExtension(path)["calls-".Length..], CultureInfo.InvariantCulture);
            var started = new Dictionary<long, FlowCall>();
            foreach (var line in ReadLines(path))
            {
                var fields = line.Split('|');
                if (fields is ["start", var call, var jobId, _, var item, var attempt, var at])
                {
                    started[Long(call)] = new FlowCall(pid, Long(jobId), item, int.Parse(attempt, CultureInfo.InvariantCulture), Long(at), null, false);
                }
                else if (fields is ["end", var ended, var outcome, var endedAt] && started.TryGetValue(Long(ended), out var open))
                {
                    started[Long(ended)] = open with { EndedAt = Long(endedAt), Succeeded = outcome == "ok" };
                }
            }

            calls.AddRange(started.Values);
        }

        return calls;
    }

    /// <summary>
    /// The most calls that ran at one instant, from their start and end records alone (<see cref="CallLog.PeakOf"/>).
    /// A call that never returned ends at <paramref name="openUntil"/>, when its process was killed.
    /// </summary>
    public static int PeakOf(IEnumerable<FlowCall> calls, long? openUntil = null) =>
        CallLog.PeakOf(calls.Select(c => new CallLog.Call(
            "first",
            c.Item,
            c.Key,
            At(c.StartedAt),
            At(c.EndedAt ?? openUntil ?? throw new InvalidOperationException($"Call of {c.Item} (job {c.JobId}, pid {c.Pid}) never returned.")),
            !c.Succeeded)));

    /// <summary>A timestamp as a point in time that orders like it.</summary>
    public static DateTimeOffset At(long timestamp) => DateTimeOffset.UnixEpoch + Stopwatch.GetElapsedTime(0, timestamp);

    public static TimeSpan Between(long from, long to) => Stopwatch.GetElapsedTime(from, to);

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    private static List<string> ReadLines(string path)
    {
        // The host appends while the test reads: share the file and keep only whole lines.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        var whole = text.LastIndexOf('\n');
        return whole < 0 ? [] : [.. text[..whole].Split('\n').Select(l => l.TrimEnd('\r'))];
    }
}
