using System.Diagnostics;
using System.Globalization;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// The handler's own record of its calls, kept apart from storage so it survives the database going away: one file per
/// process (<c>calls-{pid}.log</c> in <see cref="HostSettings.CallLog"/>), a line when a call starts,
/// <c>start|{call}|{jobId}|{handlerId}|{item}|{attempt}|{timestamp}</c>, and one when it returns,
/// <c>end|{call}|{ok or failed}|{timestamp}</c>. Timestamps are <see cref="Stopwatch.GetTimestamp"/>, the machine's
/// monotonic clock, which every process on it shares. Each line is written through at once, so a process killed with
/// SIGKILL leaves every line it wrote. Does nothing when no folder is configured.
/// </summary>
internal sealed class CallFile : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter? _writer;
    private long _calls;

    public CallFile(HostSettings settings)
    {
        if (settings.CallLog is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"calls-{Environment.ProcessId}.log"));
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        }
    }

    public long Started(string item, FanOutContext context)
    {
        var call = Interlocked.Increment(ref _calls);
        Write(string.Create(
            CultureInfo.InvariantCulture,
            $"start|{call}|{context.JobId}|{context.HandlerId}|{item}|{context.Attempt}|{Stopwatch.GetTimestamp()}"));
        return call;
    }

    public void Ended(long call, bool succeeded) =>
        Write(string.Create(CultureInfo.InvariantCulture, $"end|{call}|{(succeeded ? "ok" : "failed")}|{Stopwatch.GetTimestamp()}"));

    public void Dispose() => _writer?.Dispose();

    private void Write(string line)
    {
        if (_writer is null)
        {
            return;
        }

        lock (_gate)
        {
            _writer.WriteLine(line);
        }
    }
}
