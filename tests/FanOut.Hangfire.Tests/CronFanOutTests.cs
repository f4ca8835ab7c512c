using FanOut.Hangfire.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests;

public sealed class CronFanOutTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Trigger_OnInMemory_RunsEveryItemOncePerHandler()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(200);
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: "tenant/due")
            .AddHandler<RecordingHandler>("first", on: "tenant/due")
            .AddHandler<RecordingHandler>("second", on: "tenant/due"),
            services => services.AddSingleton(recorder).AddSingleton(items));

        var runId = await host.Client.TriggerAsync("nightly");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 400, Timeout, () => $"{recorder.Calls.Count} of 400 calls");
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems();
        recorder.CountOf("first").Should().Be(200);
        recorder.CountOf("second").Should().Be(200);
        recorder.Calls.Should().OnlyContain(c => c.Context.RunId == runId && c.Context.Attempt == 1);
        var jobs = JobCensus.ChildJobs(host.Storage);
        jobs.Should().HaveCount(400);
        jobs.Select(j => (j.HandlerId, j.ItemKey)).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Handler_FailingTransiently_SucceedsOnRetryWithAttemptNumber()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(30);
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: "tenant/due")
            .AddHandler<FlakyHandler>("flaky", on: "tenant/due", o =>
            {
                o.RetryAttempts = 2;
                o.RetryDelays.Add(TimeSpan.Zero);
            }),
            services => services.AddSingleton(recorder).AddSingleton(items));

        await host.Client.TriggerAsync("nightly");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 30, Timeout, () => $"{recorder.Calls.Count} of 30 calls");
        var retried = recorder.Calls.Where(c => c.Context.Attempt == 2).Select(c => c.Key).ToList();
        retried.Should().HaveCount(10, "items 0, 3, ..., 27 fail their first attempt");
        await Wait.UntilAsync(() => JobCensus.Succeeded(host.Storage) >= 31, Timeout, () => "all jobs succeeded");
        JobCensus.ChildJobs(host.Storage).Should().OnlyContain(j => j.State == "Succeeded");
    }

    [Fact]
    public async Task Dispatch_InterruptedBeforeChunkCommitOnInMemory_RetriesWithoutDuplicates() =>
        await InterruptedDispatchScenario.RunAsync(TestHost.InMemory());
}
