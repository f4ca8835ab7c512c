using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>A handler that does nothing but log three lines at Information, as a handler tracing its work might: each job keeps them.</summary>
public sealed partial class LoggingHandler(ILogger<LoggingHandler> logger) : IFanOutHandler<string>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        LogStart(item);
        LogCalled(item, 200);
        LogDone(item);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Handling {ItemKey}")]
    private partial void LogStart(string itemKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "The API answered {Status} for {ItemKey}")]
    private partial void LogCalled(string itemKey, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Done with {ItemKey}")]
    private partial void LogDone(string itemKey);
}
