using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire;

/// <summary>
/// What is kept of the lines a handler logs through <see cref="ILogger"/> during a call: they are stored with the job's
/// attempt, shown on Hangfire's job page, under a failed item on the run's page, and read back with
/// <see cref="IFanOutRuns.GetJobLogAsync"/>. Only what is logged during the call, in its own flow, is kept: not the logs
/// of other code, other jobs or other threads.
/// </summary>
public sealed class FanOutJobLogOptions
{
    /// <summary>
    /// Gets or sets the lowest level kept. <see cref="LogLevel.None"/> keeps nothing and costs nothing: no line is
    /// captured and nothing is written.
    /// </summary>
    /// <value>The default value is <see cref="LogLevel.Information"/>.</value>
    /// <remarks>
    /// The application's own logging filters do not apply to it, so a console kept at Warning does not hide a job's
    /// Information lines. Filter rules for the provider alias <c>FanOutJobLog</c> (for instance
    /// <c>Logging:FanOutJobLog:LogLevel:Microsoft</c>) narrow it further.
    /// </remarks>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    /// <summary>
    /// Gets or sets how many lines one attempt keeps. Past it the earliest are dropped, so the last lines before a
    /// failure are kept, and the log says how many were dropped.
    /// </summary>
    /// <value>The default value is 100. It must be between 1 and 10,000.</value>
    public int MaxEntries { get; set; } = 100;

    /// <summary>
    /// Gets or sets how many bytes (UTF-8, of the messages and exceptions) one attempt keeps. Past it the earliest lines
    /// are dropped; a single line longer than this is cut. It is stored with the job, in every attempt that logged.
    /// </summary>
    /// <value>The default value is 16,384 bytes (16 KiB). It must be between 1,024 bytes and 1 MiB.</value>
    public int MaxBytes { get; set; } = 16 * 1024;
}
