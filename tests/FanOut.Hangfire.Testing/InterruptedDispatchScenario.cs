using FanOut.Hangfire.Dispatch;
using FluentAssertions;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// A dispatch that dies after creating the jobs of its third chunk but before committing them, then is retried by
/// Hangfire as the same run: every (item, handler) job must exist exactly once. Shared by the storage-specific tests.
/// </summary>
public static class InterruptedDispatchScenario
{
    public static async Task RunAsync(JobStorage storage, Action<IFanOutBuilder>? configure = null)
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(1_250);
        var hooks = new DispatchHooks();
        var failures = 0;
        hooks.ChunkCommitting = (_, next) =>
        {
            if (next.Items == 750 && Interlocked.Increment(ref failures) == 1)
            {
                throw new InvalidOperationException("Simulated crash before the third chunk commits");
            }
        };

        await using var host = await TestHost.StartAsync(storage, fanOut =>
        {
            fanOut.Services.Configure<FanOutOptions>(o =>
            {
                o.ChunkSize = 250;
                o.DispatchRetryDelays.Add(TimeSpan.Zero);
            });
            fanOut
                .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
                .AddHandler<RecordingHandler>("notify", on: "tenant/due")
                .AddHandler<RecordingHandler>("audit", on: "tenant/due");
            configure?.Invoke(fanOut);
        },
        services => services.AddSingleton(recorder).AddSingleton(items).AddSingleton(hooks),
        workers: 6);

        var runId = await host.Client.TriggerAsync("tenants");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 2_500, TimeSpan.FromSeconds(120), () => $"{recorder.Calls.Count} of 2500 calls");
        failures.Should().BeGreaterThan(0, "the simulated crash happened");
        var jobs = JobCensus.ChildJobs(storage);
        jobs.Where(j => j.RunId == runId).Should().HaveCount(2_500);
        jobs.Select(j => (j.HandlerId, j.ItemKey)).Should().OnlyHaveUniqueItems();
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems();
        recorder.Calls.Should().HaveCount(2_500);
    }
}
