using System.Text;
using FanOut.Hangfire.Jobs;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// The lines one handler call logs, collected while the call runs. The call's own flow carries it (an
/// <see cref="AsyncLocal{T}"/> set around the call, flowing into what the handler awaits and the tasks it starts), so
/// the logs of other code, other jobs and other threads never reach it; once the call has ended it takes nothing more.
/// It keeps the last lines within <see cref="FanOutJobLogOptions.MaxEntries"/> and <see cref="FanOutJobLogOptions.MaxBytes"/>,
/// counting those it dropped. Thread-safe: a handler may log from tasks of its own at once.
/// </summary>
internal sealed class JobLogCapture
{
    private const string Cut = "…";

    private static readonly AsyncLocal<JobLogCapture?> Flowing = new();

    private readonly Lock _gate = new();
    private readonly Queue<(FanOutLogEntry Entry, int Bytes)> _entries = new();
    private readonly LogLevel _minimum;
    private readonly int _maxEntries;
    private readonly int _maxBytes;
    private readonly TimeProvider _time;
    private int _bytes;
    private int _dropped;
    private bool _closed;

    private JobLogCapture(FanOutJobLogOptions options, TimeProvider time)
    {
        _minimum = options.MinimumLevel;
        _maxEntries = options.MaxEntries;
        _maxBytes = options.MaxBytes;
        _time = time;
    }

    /// <summary>The capture of the call whose flow this is, if any.</summary>
    public static JobLogCapture? Current => Flowing.Value;

    /// <summary>A capture for one call, or null when job logs are off (<see cref="LogLevel.None"/>).</summary>
    public static JobLogCapture? For(FanOutJobLogOptions options, TimeProvider time) =>
        options.MinimumLevel is LogLevel.None ? null : new JobLogCapture(options, time);

    public bool Accepts(LogLevel level) => level >= _minimum && level != LogLevel.None && !Volatile.Read(ref _closed);

    /// <summary>Makes this the capture of the current flow until the returned scope is disposed.</summary>
    public Scope Begin()
    {
        var previous = Flowing.Value;
        Flowing.Value = this;
        return new Scope(previous);
    }

    public void Add(LogLevel level, string category, string message, Exception? exception)
    {
        var entry = Fit(new FanOutLogEntry(_time.GetUtcNow(), level, category, message, exception?.ToString()), out var bytes);
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _entries.Enqueue((entry, bytes));
            _bytes += bytes;
            while (_entries.Count > _maxEntries || _bytes > _maxBytes)
            {
                _bytes -= _entries.Dequeue().Bytes;
                _dropped++;
            }
        }
    }

    /// <summary>Takes no more lines; returns the stored form of those kept, or null when the call logged nothing.</summary>
    public string? Close()
    {
        lock (_gate)
        {
            _closed = true;
            return _entries.Count == 0 && _dropped == 0 ? null : JobLogCodec.Encode([.. _entries.Select(e => e.Entry)], _dropped);
        }
    }

    /// <summary>An entry cut to fit the byte limit on its own: the exception's end goes first, then the message's.</summary>
    private FanOutLogEntry Fit(FanOutLogEntry entry, out int bytes)
    {
        var messageBytes = Encoding.UTF8.GetByteCount(entry.Message);
        var exceptionBytes = entry.Exception is null ? 0 : Encoding.UTF8.GetByteCount(entry.Exception);
        bytes = messageBytes + exceptionBytes;
        if (bytes <= _maxBytes)
        {
            return entry;
        }

        var message = Shorten(entry.Message, _maxBytes) ?? string.Empty;
        var exception = entry.Exception is null ? null : Shorten(entry.Exception, _maxBytes - Encoding.UTF8.GetByteCount(message));
        bytes = Encoding.UTF8.GetByteCount(message) + (exception is null ? 0 : Encoding.UTF8.GetByteCount(exception));
        return new FanOutLogEntry(entry.Timestamp, entry.Level, entry.Category, message, exception);
    }

    /// <summary>The text, or as much of it as fits in <paramref name="maxBytes"/> with the cut marked; null when not even the mark fits.</summary>
    private static string? Shorten(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text;
        }

        var budget = maxBytes - Encoding.UTF8.GetByteCount(Cut);
        if (budget < 0)
        {
            return null;
        }

        // One pass, a character (or surrogate pair) at a time, so a cut never splits one.
        var (used, length) = (0, 0);
        while (length < text.Length)
        {
            var step = char.IsHighSurrogate(text[length]) && length + 1 < text.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(text.AsSpan(length, step));
            if (used + size > budget)
            {
                break;
            }

            used += size;
            length += step;
        }

        return string.Concat(text.AsSpan(0, length), Cut);
    }

    /// <summary>Puts back the capture that flowed before.</summary>
    public readonly struct Scope(JobLogCapture? previous) : IDisposable
    {
        public void Dispose() => Flowing.Value = previous;
    }
}
