using FanOut.Hangfire.Tests.Fakes;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests;

public sealed class OverlapTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Overlap_Skip_SkipsFiringWhilePreviousDispatchRuns()
    {
        var (gate, recorder, host) = await StartAsync(FanOutOverlap.Skip);
        await using (host)
        {
            var manager = host.Services.GetRequiredService<IRecurringJobManager>();
            manager.Trigger("fanout:slow");
            await Wait.UntilAsync(() => gate.Started == 1, Timeout, () => "the first dispatch to start");
            manager.Trigger("fanout:slow");
            await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 1, Timeout, () => "the second firing to finish");

            JobCensus.DispatchResults(host.Storage).Single().Should().Contain("Skipped").And.Contain("Skip");
            gate.Open.SetResult();
            await Wait.UntilAsync(() => recorder.Calls.Count >= 4, Timeout, () => $"{recorder.Calls.Count} of 4 calls");
            await Wait.UntilAsync(() => JobCensus.DispatchResults(host.Storage).Count == 2, Timeout, () => "the first dispatch to finish");
            gate.Started.Should().Be(1);
            recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().ContainSingle();
        }
    }

    [Fact]
    public async Task Overlap_Wait_RunsFiringAfterPreviousDispatchNeverConcurrently()
    {
        var (gate, recorder, host) = await StartAsync(FanOutOverlap.Wait);
        await using (host)
        {
            var manager = host.Services.GetRequiredService<IRecurringJobManager>();
            manager.Trigger("fanout:slow");
            await Wait.UntilAsync(() => gate.Started == 1, Timeout, () => "the first dispatch to start");
            manager.Trigger("fanout:slow");
            await host.Client.TriggerAsync("slow");

            gate.Open.SetResult();
            await Wait.UntilAsync(() => recorder.Calls.Count >= 12, Timeout, () => $"{recorder.Calls.Count} of 12 calls");
            gate.Started.Should().Be(3);
            gate.MaxRunning.Should().Be(1, "dispatches of one fan-out never overlap");
            recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().HaveCount(3);
        }
    }

    private static async Task<(Gate Gate, Recorder Recorder, TestHost Host)> StartAsync(FanOutOverlap overlap)
    {
        var gate = new Gate();
        var recorder = new Recorder();
        var items = TestItems.Numbered(4);
        var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<GatedSource>("slow", "0 0 1 1 *", sends: "tenant/due", o => o.Overlap = overlap)
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(gate).AddSingleton(recorder).AddSingleton(items),
            workers: 6);
        return (gate, recorder, host);
    }
}
