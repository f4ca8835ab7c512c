using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire;

/// <summary>One line a handler logged during a call.</summary>
public sealed class FanOutLogEntry
{
    internal FanOutLogEntry(DateTimeOffset timestamp, LogLevel level, string category, string message, string? exception)
    {
        Timestamp = timestamp;
        Level = level;
        Category = category;
        Message = message;
        Exception = exception;
    }

    /// <summary>Gets when the line was logged.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets the line's level.</summary>
    public LogLevel Level { get; }

    /// <summary>Gets the logger's category, usually the logging class's full name.</summary>
    public string Category { get; }

    /// <summary>Gets the formatted message.</summary>
    public string Message { get; }

    /// <summary>Gets the exception logged with the line (its type, message and stack trace), or null when none was.</summary>
    public string? Exception { get; }
}
