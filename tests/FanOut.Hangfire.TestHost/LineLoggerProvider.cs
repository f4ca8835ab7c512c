using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// Writes log entries as <c>log|{level}|{category}|{message}|{exception}</c> lines: everything from the library at
/// Information and above, everything else (Hangfire, Npgsql) at Warning and above.
/// </summary>
internal sealed class LineLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LineLogger(categoryName);

    public void Dispose()
    {
    }

    private sealed class LineLogger(string category) : ILogger
    {
        private readonly LogLevel _minimum = category.StartsWith("FanOut.", StringComparison.Ordinal) ? LogLevel.Information : LogLevel.Warning;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Lines.Write("log", logLevel.ToString(), category, formatter(state, exception), Describe(exception));
            }
        }

        private static string Describe(Exception? exception) =>
            exception is null ? string.Empty : string.Join(" ---> ", Chain(exception).Select(e => $"{e.GetType().Name}: {e.Message}"));

        private static IEnumerable<Exception> Chain(Exception exception)
        {
            for (var current = exception; current is not null; current = current.InnerException)
            {
                yield return current;
            }
        }
    }
}
