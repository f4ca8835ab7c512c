using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// The logger provider <c>AddFanOut</c> registers: every logger the application makes (a handler's own
/// <c>ILogger&lt;T&gt;</c> from DI among them) writes to it, and it keeps a line only while a handler call's
/// <see cref="JobLogCapture"/> flows. Outside a call its loggers are disabled, at the cost of one read of an
/// <see cref="AsyncLocal{T}"/> per log call.
/// </summary>
[ProviderAlias(Alias)]
internal sealed class JobLogProvider : ILoggerProvider
{
    public const string Alias = "FanOutJobLog";

    public ILogger CreateLogger(string categoryName) => new JobLogger(categoryName);

    public void Dispose()
    {
    }

    private sealed class JobLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => JobLogCapture.Current?.Accepts(logLevel) == true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (JobLogCapture.Current is { } capture && capture.Accepts(logLevel))
            {
                capture.Add(logLevel, category, formatter(state, exception), exception);
            }
        }
    }
}
