using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>What <see cref="ChattyHandler"/> calls did: each call's job and attempt, and the lines logged after a call ended.</summary>
public sealed class ChattyCalls
{
    public ConcurrentBag<(string Item, int Attempt, string JobId)> Calls { get; } = [];

    /// <summary>How many lines were logged by work a call left running after it returned.</summary>
    public int LateLines => _lateLines;

    private int _lateLines;

    public string JobOf(string item) => Calls.First(c => c.Item == item).JobId;

    internal void LateLineLogged() => Interlocked.Increment(ref _lateLines);
}

/// <summary>
/// Logs through its own <see cref="ILogger{TCategoryName}"/> from DI, as a handler does: a Debug line, a line per call
/// with its attempt, one from a task it starts (its flow), one from a task started with the flow suppressed (not its
/// flow), and one from work it leaves running after it returns. Items named <c>flaky-*</c> fail their first attempt,
/// <c>broken-*</c> every attempt, each logging a warning with the exception; <c>verbose-*</c> logs 150 lines more, and
/// <c>big-*</c> three lines of 10,000 characters.
/// </summary>
public sealed class ChattyHandler(ILogger<ChattyHandler> logger, ChattyCalls calls) : IFanOutHandler<string>
{
    public async Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        calls.Calls.Add((item, context.Attempt, context.JobId));
        logger.LogDebug("Debug detail of {Item}", item);
        logger.LogInformation("Handling {Item}, attempt {Attempt}", item, context.Attempt);
        await Task.Run(() => logger.LogInformation("From a task of {Item}", item), cancellationToken);

        Task unflowed;
        using (ExecutionContext.SuppressFlow())
        {
            unflowed = Task.Run(() => logger.LogInformation("Unflowed thread of {Item}", item), CancellationToken.None);
        }

        await unflowed;
        if (item.StartsWith("verbose-", StringComparison.Ordinal))
        {
            for (var i = 0; i < 150; i++)
            {
                logger.LogInformation("Line {Number} of {Item}", i, item);
            }
        }

        if (item.StartsWith("big-", StringComparison.Ordinal))
        {
            for (var i = 0; i < 3; i++)
            {
                logger.LogInformation("{Big}", new string((char)('a' + i), 10_000));
            }
        }

        _ = Task.Run(async () =>
        {
            await Task.Delay(200, CancellationToken.None);
            logger.LogInformation("Too late for {Item}", item);
            calls.LateLineLogged();
        }, CancellationToken.None);

        if (item.StartsWith("broken-", StringComparison.Ordinal) || (item.StartsWith("flaky-", StringComparison.Ordinal) && context.Attempt == 1))
        {
            var failure = new InvalidOperationException($"{item} failed on attempt {context.Attempt}");
            logger.LogWarning(failure, "Giving up on {Item} for now", item);
            throw failure;
        }

        logger.LogInformation("Done with {Item}", item);
    }
}
