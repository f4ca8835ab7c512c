using Hangfire;

namespace FanOut.Hangfire.Registration;

/// <summary>
/// A handler with its resolved options, its invoker and the retry policy Hangfire applies to its jobs; a batch handler
/// also has its <see cref="Batch"/> (and an <see cref="Invoker"/> that is never called).
/// </summary>
internal sealed record RegisteredHandler(
    string Id,
    string EventName,
    Type HandlerType,
    Type ItemType,
    FanOutHandlerOptions Options,
    IHandlerInvoker Invoker,
    AutomaticRetryAttribute Retry,
    HandlerLimit? Limit = null,
    HandlerBatch? Batch = null);
