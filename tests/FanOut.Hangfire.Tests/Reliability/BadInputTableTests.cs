using System.Runtime.CompilerServices;
using FanOut.Hangfire.Tests.Fakes;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariant 7, the cases BadInputTests does not hold yet: every option out of its range, every bad argument
/// to the client, and the run-time surprises (duplicate keys, an oversized item from a source, a dispatch cancelled by a
/// shutdown, stored jobs whose handler vanished or whose item no longer reads). Each names the thing, and nothing
/// already sent is lost.
/// </summary>
public sealed class BadInputTableTests
{
    private const string FanOutId = "the-fan-out";
    private const string HandlerId = "the-handler";
    private const string Event = "tenant/due";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // ---- Options out of range: the host fails at start-up, naming the option, its owner and the value ----
    // (A fan-out's options are set after AddCron's own, as configuration would set them.)

    private static readonly Dictionary<string, (Action<IServiceCollection> Configure, string[] Named)> OptionCases = new()
    {
        ["ChunkSize over 10000"] = (s => s.Configure<FanOutOptions>(o => o.ChunkSize = 10_001), ["FanOutOptions.ChunkSize", "10001"]),
        ["MaxItemBytes under 64"] = (s => s.Configure<FanOutOptions>(o => o.MaxItemBytes = 63), ["FanOutOptions.MaxItemBytes", "63"]),
        ["MaxItemBytes over 1 MiB"] = (s => s.Configure<FanOutOptions>(o => o.MaxItemBytes = (1024 * 1024) + 1), ["FanOutOptions.MaxItemBytes", "1048577"]),
        ["DispatchLeaseDuration under 5 s"] = (s => s.Configure<FanOutOptions>(o => o.DispatchLeaseDuration = TimeSpan.FromSeconds(4)), ["FanOutOptions.DispatchLeaseDuration", "00:00:04"]),
        ["DispatchLeaseDuration over 1 h"] = (s => s.Configure<FanOutOptions>(o => o.DispatchLeaseDuration = TimeSpan.FromHours(2)), ["FanOutOptions.DispatchLeaseDuration", "02:00:00"]),
        ["RunRetention zero"] = (s => s.Configure<FanOutOptions>(o => o.RunRetention = TimeSpan.Zero), ["FanOutOptions.RunRetention", "00:00:00"]),
        ["DispatchRetryAttempts negative"] = (s => s.Configure<FanOutOptions>(o => o.DispatchRetryAttempts = -1), ["DispatchRetryAttempts", "-1"]),
        ["DispatchRetryDelays negative"] = (s => s.Configure<FanOutOptions>(o => o.DispatchRetryDelays.Add(TimeSpan.FromSeconds(-1))), ["DispatchRetryDelays", "-00:00:01"]),
        ["CompletionCheckInterval zero"] = (s => s.Configure<FanOutOptions>(o => o.CompletionCheckInterval = TimeSpan.Zero), ["FanOutOptions.CompletionCheckInterval", "00:00:00"]),
        ["OverlapWaitTimeout zero"] = (s => s.PostConfigure<CronFanOutOptions>(FanOutId, o => o.OverlapWaitTimeout = TimeSpan.Zero), [$"Cron fan-out '{FanOutId}'", "OverlapWaitTimeout", "00:00:00"]),
        ["Overlap not a defined value"] = (s => s.PostConfigure<CronFanOutOptions>(FanOutId, o => o.Overlap = (FanOutOverlap)7), [$"Cron fan-out '{FanOutId}'", "Overlap '7'"]),
        ["TimeZone empty"] = (s => s.PostConfigure<CronFanOutOptions>(FanOutId, o => o.TimeZone = " "), [$"Cron fan-out '{FanOutId}'", "time zone is empty"]),
        ["Cron with a day out of range"] = (s => s.PostConfigure<CronFanOutOptions>(FanOutId, o => o.Cron = "0 0 32 * *"), [$"Cron fan-out '{FanOutId}'", "'0 0 32 * *'"]),
        ["Cron with seconds out of range"] = (s => s.PostConfigure<CronFanOutOptions>(FanOutId, o => o.Cron = "60 * * * * *"), [$"Cron fan-out '{FanOutId}'", "'60 * * * * *'"]),
        ["Cron queue with upper case"] = (s => s.PostConfigure<CronFanOutOptions>(FanOutId, o => o.Queue = "Dispatch"), [$"Cron fan-out '{FanOutId}'", "queue 'Dispatch'"]),
        ["Handler RetryDelays negative"] = (s => s.Configure<FanOutHandlerOptions>(HandlerId, o => o.RetryDelays.Add(TimeSpan.FromSeconds(-5))), [$"Handler '{HandlerId}'", "RetryDelays", "-00:00:05"]),
        ["Handler queue empty"] = (s => s.Configure<FanOutHandlerOptions>(HandlerId, o => o.Queue = string.Empty), [$"Handler '{HandlerId}'", "queue ''"]),
    };

    public static TheoryData<string> OptionCaseNames => new(OptionCases.Keys);

    [Theory]
    [MemberData(nameof(OptionCaseNames))]
    public async Task Startup_OptionOutOfRange_FailsNamingTheOptionAndValue(string option)
    {
        var (configure, named) = OptionCases[option];
        var storage = TestHost.InMemory();
        var host = TestHost.Build(storage, DeclareStringFanOut, services =>
        {
            services.AddSingleton(new Recorder()).AddSingleton(new TestItems());
            configure(services);
        });
        try
        {
            var thrown = await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<Exception>();
            var message = thrown.Which.Message;
            foreach (var part in named)
            {
                message.Should().Contain(part, $"the failure for '{option}' names it");
            }
        }
        finally
        {
            host.Dispose();
            ((IDisposable)storage).Dispose();
            global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        }
    }

    // ---- Bad calls to IFanOutClient: an ArgumentException for the parameter, and nothing sent ----

    private static readonly Dictionary<string, (Func<IFanOutClient, Task> Call, Type Exception, string Parameter)> ClientCases = new()
    {
        ["TriggerAsync with a null id"] = (c => c.TriggerAsync(null!), typeof(ArgumentNullException), "fanOutId"),
        ["TriggerAsync with an empty id"] = (c => c.TriggerAsync(string.Empty), typeof(ArgumentException), "fanOutId"),
        ["TriggerAsync with a blank id"] = (c => c.TriggerAsync("  "), typeof(ArgumentException), "fanOutId"),
        ["SendAsync with a null event"] = (c => c.SendAsync(null!, "item-1"), typeof(ArgumentNullException), "eventName"),
        ["SendAsync with an empty event"] = (c => c.SendAsync(string.Empty, "item-1"), typeof(ArgumentException), "eventName"),
        ["SendManyAsync with a null list"] = (c => c.SendManyAsync(Event, (IEnumerable<string>)null!), typeof(ArgumentNullException), "items"),
        ["SendManyAsync with a null stream"] = (c => c.SendManyAsync(Event, (IAsyncEnumerable<string>)null!), typeof(ArgumentNullException), "items"),
        ["SendManyAsync with an empty list"] = (c => c.SendManyAsync(Event, Array.Empty<string>()), typeof(ArgumentException), "items"),
        ["SendManyAsync to an unknown event"] = (c => c.SendManyAsync("nobody/listens", new[] { "item-1" }), typeof(ArgumentException), "eventName"),
    };

    public static TheoryData<string> ClientCaseNames => new(ClientCases.Keys);

    [Theory]
    [MemberData(nameof(ClientCaseNames))]
    public async Task Client_BadArgument_ThrowsForTheParameterAndSendsNothing(string call)
    {
        var (invoke, exception, parameter) = ClientCases[call];
        await using var host = await StartStringFanOutAsync(new TestItems());

        var thrown = await FluentActions.Awaiting(() => invoke(host.Client)).Should().ThrowAsync<ArgumentException>();

        thrown.Which.Should().BeOfType(exception, call);
        thrown.Which.ParamName.Should().Be(parameter, call);
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    // ---- Run time ----

    [Fact]
    public async Task Dispatch_SourceYieldsDuplicateKeys_DispatchesEachAsItsOwnJobSharingOneIdempotencyKey()
    {
        var recorder = new Recorder();
        var items = new TestItems();
        items.Ids.AddRange(["acct-1", "acct-2", "acct-1", "acct-3", "acct-1"]);
        await using var host = await StartStringFanOutAsync(items, recorder);

        var runId = await host.Client.TriggerAsync(FanOutId);

        await Wait.UntilAsync(() => recorder.Calls.Count >= 5, Timeout, () => $"{recorder.Calls.Count} of 5 calls");
        JobCensus.ChildJobs(host.Storage).Should().HaveCount(5, "the library does not de-duplicate: that would hold every key of a run in memory");
        var calls = recorder.Calls.Where(c => c.Key == "acct-1").ToList();
        calls.Should().HaveCount(3);
        calls.Select(c => c.Context.IdempotencyKey).Distinct().Should().ContainSingle()
            .Which.Should().Be($"{runId}/{HandlerId}/acct-1", "a handler that honours the key does the work once");
        calls.Select(c => c.Context.JobId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task SendManyAsync_DuplicateKeys_SendsEachAsItsOwnJobSharingOneIdempotencyKey()
    {
        var recorder = new Recorder();
        await using var host = await StartStringFanOutAsync(new TestItems(), recorder);

        var runId = await host.Client.SendManyAsync(Event, ["acct-1", "acct-1"]);

        await Wait.UntilAsync(() => recorder.Calls.Count >= 2, Timeout, () => $"{recorder.Calls.Count} of 2 calls");
        recorder.Calls.Select(c => c.Context.IdempotencyKey).Should().AllBe($"{runId}/{HandlerId}/acct-1");
    }

    [Fact]
    public async Task Dispatch_SourceYieldsItemOverMaxItemBytes_FailsNamingTheFanOutPositionAndLimit_KeepsTheChunksBefore()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(4);
        items.Ids.Add(new string('x', 2_000));
        items.Ids.Add("item-after");
        await using var host = await StartStringFanOutAsync(items, recorder, o =>
        {
            o.ChunkSize = 2;
            o.MaxItemBytes = 1_024;
            o.DispatchRetryAttempts = 0;
        });

        var runId = await host.Client.TriggerAsync(FanOutId);

        var failure = await FailedDispatchMessageAsync(host.Storage);
        failure.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("#4").And.Contain("2002 bytes").And.Contain("MaxItemBytes");
        await Wait.UntilAsync(() => recorder.Calls.Count >= 4, Timeout, () => $"{recorder.Calls.Count} of 4 calls");
        recorder.Calls.Select(c => c.Key).Should().BeEquivalentTo(TestItems.Numbered(4).Ids, "the two chunks before the bad item stay dispatched");
        recorder.Calls.Should().OnlyContain(c => c.Context.RunId == runId);
    }

    [Fact]
    public async Task Dispatch_CancelledByServerShutdown_ResumesOnTheNextServerWithoutLossOrDuplicates()
    {
        var storage = TestHost.InMemory();
        var recorder = new Recorder();
        var items = TestItems.Numbered(10);
        var halt = new SourceHalt { At = 6 };
        void Services(IServiceCollection services) => services
            .AddSingleton(recorder)
            .AddSingleton(items)
            .AddSingleton(halt)
            .AddFanOut(o => o.ChunkSize = 3);
        void Declare(IFanOutBuilder fanOut) => fanOut
            .AddCron<HaltingSource>(FanOutId, "0 3 * * *", sends: Event)
            .AddHandler<RecordingHandler>(HandlerId, on: Event);

        var first = TestHost.Build(storage, Declare, Services);
        string runId;
        try
        {
            await first.StartAsync();
            runId = await first.Services.GetRequiredService<IFanOutClient>().TriggerAsync(FanOutId);
            await halt.Reached.Task.WaitAsync(Timeout);
            await first.StopAsync(Timeout);
        }
        finally
        {
            first.Dispose();
            global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        }

        halt.Cancelled.Should().BeTrue("shutting the server down cancelled the dispatch mid-way");
        halt.At = int.MaxValue;
        await using var second = await TestHost.StartAsync(storage, Declare, Services);

        await Wait.UntilAsync(() => recorder.Calls.Count >= 10, Timeout, () => $"{recorder.Calls.Count} of 10 calls");
        var jobs = JobCensus.ChildJobs(storage);
        jobs.Should().HaveCount(10).And.OnlyContain(j => j.RunId == runId);
        jobs.Select(j => j.ItemKey).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(items.Ids);
    }

    [Fact]
    public async Task StoredJob_HandlerNoLongerDeclared_FailsNamingTheHandlerAndItem()
    {
        var logs = new LogCapture();
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            DeclareStringFanOut,
            services => services
                .AddSingleton(new Recorder())
                .AddSingleton(new TestItems())
                .AddLogging(l => l.AddProvider(logs)));
        var jobs = host.Services.GetRequiredService<IBackgroundJobClient>();

        var jobId = jobs.Create(
            Job.FromExpression<FanOutItemJob>(j => j.ExecuteAsync("renamed-away", "run-1", "acct-9", "\"acct-9\"", null, CancellationToken.None)),
            new EnqueuedState());

        // Another server may still declare it (a deployment in progress), so the job is retried like any job.
        await Wait.UntilAsync(() => FailureOf(host.Storage, jobId) is not null, Timeout, () => $"job {jobId} to fail");
        FailureOf(host.Storage, jobId).Should().Contain("'renamed-away'");
        logs.Entries.Should().Contain(
            e => e.Level >= LogLevel.Warning && e.Exception != null
                 && e.Exception.Message.Contains("'renamed-away'", StringComparison.Ordinal)
                 && e.Exception.Message.Contains("'acct-9'", StringComparison.Ordinal)
                 && e.Exception.Message.Contains("AddHandler", StringComparison.Ordinal),
            "the failure is logged with the whole message: the handler, the item and the fix");
    }

    [Fact]
    public async Task StoredJob_ItemNoLongerReadsAsTheHandlersType_FailsNamingTheHandlerItemAndType()
    {
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut.AddHandler<LoggingHandler<Account>>("accounts", on: "account/due", o => o.RetryAttempts = 0),
            services => services.AddSingleton(new ItemLog<Account>()));
        var jobs = host.Services.GetRequiredService<IBackgroundJobClient>();

        var jobId = jobs.Create(
            Job.FromExpression<FanOutItemJob>(j => j.ExecuteAsync("accounts", "run-1", "a1", """{"id":"a1","seats":"three"}""", null, CancellationToken.None)),
            new EnqueuedState());

        await Wait.UntilAsync(() => FailureOf(host.Storage, jobId) is not null, Timeout, () => $"job {jobId} to fail");
        FailureOf(host.Storage, jobId).Should().Contain("Handler 'accounts'").And.Contain("'a1'").And.Contain(nameof(Account));
    }

    // ---- Helpers ----

    private static void DeclareStringFanOut(IFanOutBuilder fanOut) => fanOut
        .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event)
        .AddHandler<RecordingHandler>(HandlerId, on: Event);

    private static Task<TestHost> StartStringFanOutAsync(TestItems items, Recorder? recorder = null, Action<FanOutOptions>? options = null) =>
        TestHost.StartAsync(
            TestHost.InMemory(),
            DeclareStringFanOut,
            services => services
                .AddSingleton(recorder ?? new Recorder())
                .AddSingleton(items)
                .AddFanOut(options ?? (_ => { })));

    private static async Task<string> FailedDispatchMessageAsync(JobStorage storage)
    {
        string? message = null;
        await Wait.UntilAsync(
            () => (message = storage.GetMonitoringApi().FailedJobs(0, 100)
                .Where(j => j.Value.Job?.Type == typeof(FanOutDispatchJob))
                .Select(j => j.Value.ExceptionMessage)
                .FirstOrDefault()) is not null,
            Timeout,
            () => "the dispatch job to fail");
        return message!;
    }

    /// <summary>The exception message of a job's latest failed attempt, whether it then waits for a retry or ended Failed.</summary>
    private static string? FailureOf(JobStorage storage, string jobId)
    {
        var history = storage.GetMonitoringApi().JobDetails(jobId)?.History ?? [];
        return history
            .Select(s => s.StateName == "Failed" && s.Data.TryGetValue("ExceptionMessage", out var message) ? message
                : s.StateName == "Scheduled" && s.Reason?.StartsWith("Retry attempt", StringComparison.Ordinal) == true ? s.Reason
                : null)
            .FirstOrDefault(m => m is not null);
    }
}

/// <summary>Where <see cref="HaltingSource"/> stops and waits for the dispatch to be cancelled.</summary>
public sealed class SourceHalt
{
    public int At { get; set; }

    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Cancelled { get; set; }
}

/// <summary>Streams the test's items, but stops before item <see cref="SourceHalt.At"/> until the dispatch is cancelled.</summary>
public sealed class HaltingSource(TestItems items, SourceHalt halt) : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < items.Ids.Count; i++)
        {
            if (i == halt.At)
            {
                halt.Reached.TrySetResult();
                try
                {
                    await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    halt.Cancelled = true;
                    throw;
                }
            }

            yield return items.Ids[i];
        }
    }
}
