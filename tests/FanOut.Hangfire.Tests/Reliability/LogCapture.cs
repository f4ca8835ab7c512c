using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>One log entry as a sink would receive it: the message, its structured values, its scopes and its exception.</summary>
public sealed record CapturedLog(
    LogLevel Level,
    string Category,
    string Message,
    IReadOnlyList<KeyValuePair<string, object?>> Values,
    IReadOnlyList<KeyValuePair<string, object?>> ScopeValues,
    Exception? Exception)
{
    /// <summary>Everything of the entry a log sink could write, as text.</summary>
    public string AllText() =>
        string.Join(
            Environment.NewLine,
            new[] { Message, Exception?.ToString() ?? string.Empty }
                .Concat(Values.Concat(ScopeValues).Select(v => $"{v.Key}={v.Value}")));
}

/// <summary>An <see cref="ILoggerProvider"/> that keeps every entry at every level, with the scopes it was written in.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopeValues = new List<KeyValuePair<string, object?>>();
            capture._scopes.ForEachScope(
                (scope, values) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        values.AddRange(pairs);
                    }
                    else if (scope is IEnumerable<KeyValuePair<string, object>> objects)
                    {
                        values.AddRange(objects.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)));
                    }
                    else if (scope is not null)
                    {
                        values.Add(new KeyValuePair<string, object?>("Scope", scope.ToString()));
                    }
                },
                scopeValues);
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            capture._entries.Enqueue(new CapturedLog(logLevel, category, formatter(state, exception), [.. values], scopeValues, exception));
        }
    }
}
