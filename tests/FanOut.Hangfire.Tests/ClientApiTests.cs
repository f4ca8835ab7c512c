using System.Collections;
using System.Diagnostics;
using FanOut.Hangfire.Tests.Fakes;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests;

/// <summary>How the public API behaves at its edges: overloads, pending runs, statuses, cancellation, names.</summary>
public sealed class ClientApiTests
{
    private const string Event = "tenant/due";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SendManyAsync_ACollectionThatIsBothEnumerableAndAsyncEnumerable_CompilesAndStreams()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton(recorder));
        var items = new DualCollection(["t-1", "t-2", "t-3"]);

        // A DbSet<T> is both; without an overload priority this call is ambiguous (CS0121).
        var runId = await host.Client.SendManyAsync(Event, items);

        items.AsyncEnumerations.Should().Be(1, "the items are streamed");
        await Wait.UntilAsync(() => recorder.Calls.Count >= 3, Timeout, () => $"{recorder.Calls.Count} of 3 calls");
        recorder.Calls.Should().OnlyContain(c => c.Context.RunId == runId);
    }

    [Fact]
    public async Task TriggerAsync_TheRunIsReadableAtOnce_AsPendingUntilItsDispatchStarts()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)
            .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton(Items("t-1")).AddSingleton<Recorder>(),
            server: false);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var runId = await host.Client.TriggerAsync("nightly");

        var run = await runs.GetAsync(runId);
        run.Should().NotBeNull("a caller polling the run it was just given must find it");
        run!.Status.Should().Be(FanOutRunStatus.Pending);
        run.Kind.Should().Be(FanOutRunKind.Cron);
        run.Name.Should().Be("nightly");
        (await runs.ListAsync("nightly")).Select(r => r.RunId).Should().Equal([runId]);
    }

    [Fact]
    public async Task TriggerAsync_APendingRunThatDispatches_IsListedOnceAndCompletes()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)
            .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton(Items("t-1", "t-2")).AddSingleton(recorder));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var runId = await host.Client.TriggerAsync("nightly");

        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.Completed, Timeout, () => "the run to complete");
        (await runs.GetAsync(runId))!.Succeeded.Should().Be(2);
        (await runs.ListAsync("nightly")).Select(r => r.RunId).Should().Equal([runId], "the pending record and the dispatch list the run once");
    }

    [Fact]
    public async Task GetAsync_ARunThatCompletedWithFailedItems_ReadsCompletedWithFailures()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<AlwaysFailingHandler>("broken", on: "broken/due", o => o.RetryAttempts = 0)
            .AddHandler<RecordingHandler>("fine", on: Event),
            services => services.AddSingleton<Recorder>());
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var failing = await host.Client.SendManyAsync("broken/due", new[] { "t-1", "t-2" });
        var clean = await host.Client.SendManyAsync(Event, new[] { "t-1", "t-2" });

        await Wait.UntilAsync(async () => (await runs.GetAsync(failing))?.CompletedAt is not null, Timeout, () => "the failing run to complete");
        await Wait.UntilAsync(async () => (await runs.GetAsync(clean))?.CompletedAt is not null, Timeout, () => "the clean run to complete");
        var failed = (await runs.GetAsync(failing))!;
        failed.Status.Should().Be(FanOutRunStatus.CompletedWithFailures, "the dashboard says 'Completed with failures', and so must the API");
        failed.Failed.Should().Be(2);
        (await runs.GetAsync(clean))!.Status.Should().Be(FanOutRunStatus.Completed);
    }

    [Fact]
    public async Task Reads_AndTrigger_WithACancelledToken_ThrowAndStoreNothing()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: Event)
            .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton(Items("t-1")).AddSingleton<Recorder>(),
            server: false);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await runs.Invoking(r => r.GetAsync("any", cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();
        await runs.Invoking(r => r.ListAsync("nightly", 10, cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();
        await runs.Invoking(r => r.GetFailedItemsAsync("any", 10, cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();
        await runs.Invoking(r => r.RetryFailedAsync("any", cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();
        await host.Client.Invoking(c => c.TriggerAsync("nightly", cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();

        (await runs.ListAsync("nightly")).Should().BeEmpty("a cancelled trigger stores no run");
        host.Storage.GetMonitoringApi().EnqueuedCount("default").Should().Be(0, "a cancelled trigger enqueues no dispatch");
    }

    [Fact]
    public async Task CompletionQueue_PutsCompletionJobsOnTheQueueItNames()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: Event)
            .AddCompletionHandler<CompletionRecorder>(of: Event),
            services => services
                .AddSingleton<Recorder>()
                .AddSingleton<CompletionRecorder>()
                .Configure<FanOutOptions>(o => o.CompletionQueue = "reports"));

        await host.Client.SendAsync(Event, "t-1");

        // The test server does not listen to "reports": the completion job waits there.
        await Wait.UntilAsync(() => host.Storage.GetMonitoringApi().EnqueuedCount("reports") == 1, Timeout, () => "the completion job on queue 'reports'");
        host.Storage.GetMonitoringApi().EnqueuedJobs("reports", 0, 1).Single().Value.Job.Type.Should().Be(typeof(FanOutCompletionJob));
    }

    [Fact]
    public async Task FanOutDiagnostics_NameTheActivitySourceAndMeterTheLibraryPublishes()
    {
        var spans = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FanOutDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity.OperationName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: Event),
            services => services.AddSingleton<Recorder>());

        await host.Client.SendAsync(Event, "t-1");

        await Wait.UntilAsync(() => { lock (spans) { return spans.Contains("fanout.handle notify"); } }, Timeout, () => "the handler's span");
        lock (spans)
        {
            spans.Should().Contain($"fanout.dispatch {Event}");
        }

        FanOutDiagnostics.MeterName.Should().Be(FanOutDiagnostics.ActivitySourceName);
    }

    [Fact]
    public async Task AddFanOut_CronIdEqualToAnEventName_FailsAtStartUpNamingBoth()
    {
        var message = await TestHost.StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>("reports/weekly", "0 3 * * *", sends: Event)
            .AddHandler<RecordingHandler>("notify", on: Event)
            .AddHandler<RecordingHandler>("archive", on: "Reports/Weekly"),
            services => services.AddSingleton(Items("t-1")).AddSingleton<Recorder>());

        message.Should().Match("*Cron fan-out 'reports/weekly'*same name as event 'Reports/Weekly'*");
    }

    private static TestItems Items(params string[] ids)
    {
        var items = new TestItems();
        items.Ids.AddRange(ids);
        return items;
    }

    /// <summary>What Entity Framework Core's DbSet&lt;T&gt; is: both an IEnumerable&lt;T&gt; and an IAsyncEnumerable&lt;T&gt;.</summary>
    private sealed class DualCollection(string[] items) : IEnumerable<string>, IAsyncEnumerable<string>
    {
        public int AsyncEnumerations { get; private set; }

        public IEnumerator<string> GetEnumerator() => throw new InvalidOperationException("Enumerated synchronously.");

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public async IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            AsyncEnumerations++;
            foreach (var item in items)
            {
                await Task.Yield();
                yield return item;
            }
        }
    }
}
