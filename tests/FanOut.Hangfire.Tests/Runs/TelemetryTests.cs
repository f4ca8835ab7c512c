using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Runs;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Trace_DispatchAndEveryChildJobShareOneTrace_AndMetricsCount()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "FanOut.Hangfire",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var measurements = new ConcurrentQueue<(string Name, long Value)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "FanOut.Hangfire")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => measurements.Enqueue((instrument.Name, value)));
        meters.Start();

        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(recorder).AddSingleton(TestItems.Numbered(5)));

        var runId = await host.Client.TriggerAsync("tenants");
        await Wait.UntilAsync(() => spans.Count(s => s.OperationName.StartsWith("fanout.handle", StringComparison.Ordinal)) >= 5,
            TimeSpan.FromSeconds(30), () => $"{spans.Count} spans");

        var dispatch = spans.Single(s => s.OperationName == "fanout.dispatch tenants");
        dispatch.GetTagItem("fanout.run_id").Should().Be(runId);
        var handles = spans.Where(s => s.OperationName == "fanout.handle notify").ToList();
        handles.Should().HaveCount(5).And.OnlyContain(s => s.TraceId == dispatch.TraceId && (string)s.GetTagItem("fanout.run_id")! == runId);
        meters.RecordObservableInstruments();
        measurements.Where(m => m.Name == "fanout.items.dispatched").Sum(m => m.Value).Should().Be(5);
        await Wait.UntilAsync(() => measurements.Where(m => m.Name == "fanout.jobs.succeeded").Sum(m => m.Value) >= 5,
            TimeSpan.FromSeconds(30), () => "succeeded jobs to be counted");
    }
}
