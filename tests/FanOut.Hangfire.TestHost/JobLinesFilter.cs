using FanOut.Hangfire.Jobs;
using Hangfire.Common;
using Hangfire.Server;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// Tells the test when a dispatch job starts on this server and when any job's attempt throws, with the innermost
/// exception: <c>dispatch-performing|{jobId}</c>, <c>job-failed|{job type}|{jobId}|{exception type}|{message}</c>.
/// </summary>
internal sealed class JobLinesFilter : JobFilterAttribute, IServerFilter
{
    public void OnPerforming(PerformingContext context)
    {
        if (context.BackgroundJob.Job?.Type == typeof(FanOutDispatchJob))
        {
            Lines.Write("dispatch-performing", context.BackgroundJob.Id);
        }
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Exception is { } exception)
        {
            var innermost = exception.GetBaseException();
            Lines.Write("job-failed", context.BackgroundJob.Job?.Type.Name ?? "?", context.BackgroundJob.Id, innermost.GetType().Name, innermost.Message);
        }
    }
}
