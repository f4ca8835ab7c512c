using System.Reflection;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using Hangfire.Common;

namespace FanOut.Hangfire.Execution;

/// <summary>Builds the stored form of a child job: the handler id and the item's JSON, never a user type name.</summary>
internal static class ItemJobs
{
    public static readonly MethodInfo Method = typeof(FanOutItemJob).GetMethod(nameof(FanOutItemJob.ExecuteAsync))!;

    public static Job Create(HangfireServices hangfire, RegisteredHandler handler, string runId, DispatchItem item) =>
        hangfire.CreateJob(
            typeof(FanOutItemJob),
            Method,
            [handler.Id, runId, item.Key, item.Json, null, CancellationToken.None],
            handler.Options.Queue);
}
