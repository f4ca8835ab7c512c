using System.Runtime.CompilerServices;
using System.Text.Json;
using FanOut.Hangfire.Tests.Fakes;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Tests;

/// <summary>
/// docs/design.md invariant 7: bad configuration fails at start-up naming the fan-out or handler and the problem; bad input
/// at run time gets a clear exception and loses nothing already sent.
/// </summary>
public sealed class BadInputTests
{
    private const string FanOutId = "the-id";
    private const string Event = "tenant/due";
    private const string AccountEvent = "account/due";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // ---- Start-up: host.StartAsync() fails ----

    [Theory]
    [InlineData("not a cron", "3 fields")]
    [InlineData("* * * *", "4 fields")]
    [InlineData("* * * * * * *", "7 fields")]
    [InlineData("61 * * * *", "Minute")]
    public async Task AddCron_InvalidCron_FailsStartupNamingTheFanOutAndExpression(string cron, string problem)
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>(FanOutId, cron, sends: Event)
            .AddHandler<RecordingHandler>("h", on: Event));

        message.Should().Contain($"Cron fan-out '{FanOutId}'")
            .And.Contain($"cron expression '{cron}' is invalid")
            .And.Contain(problem);
    }

    [Fact]
    public async Task AddCron_UnknownTimeZone_FailsStartupNamingTheFanOutAndZone()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event, o => o.TimeZone = "Mars/Olympus")
            .AddHandler<RecordingHandler>("h", on: Event));

        message.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("time zone 'Mars/Olympus' is unknown");
    }

    [Fact]
    public async Task AddCron_InvalidQueue_FailsStartupNamingTheFanOutAndQueue()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event, o => o.Queue = "Not Valid")
            .AddHandler<RecordingHandler>("h", on: Event));

        message.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("queue 'Not Valid'");
    }

    [Fact]
    public async Task AddHandler_InvalidQueue_FailsStartupNamingTheHandlerAndQueue()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddHandler<RecordingHandler>("the-handler", on: Event, o => o.Queue = "Not Valid"));

        message.Should().Contain("Handler 'the-handler'").And.Contain("queue 'Not Valid'");
    }

    [Fact]
    public async Task AddHandler_NegativeRetryAttempts_FailsStartupNamingTheHandler()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddHandler<RecordingHandler>("the-handler", on: Event, o => o.RetryAttempts = -1));

        message.Should().Contain("Handler 'the-handler'").And.Contain("RetryAttempts").And.Contain("-1");
    }

    [Fact]
    public async Task AddFanOut_ChunkSizeZero_FailsStartupNamingTheOption()
    {
        var message = await StartupFailureAsync(
            fanOut => fanOut.AddHandler<RecordingHandler>("h", on: Event),
            services => services.AddFanOut(o => o.ChunkSize = 0));

        message.Should().Contain("ChunkSize").And.Contain("not 0");
    }

    [Fact]
    public async Task AddCron_EventWithoutHandler_FailsStartupNamingTheFanOutAndEvent()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: "nobody/listens")
            .AddHandler<RecordingHandler>("h", on: Event));

        message.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("'nobody/listens'").And.Contain("no handler listens");
    }

    [Fact]
    public async Task AddHandler_ClassDiCannotBuild_FailsStartupNamingTheHandlerAndClass()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddHandler<UnbuildableHandler>("the-handler", on: Event));

        message.Should().Contain("Handler 'the-handler'")
            .And.Contain(nameof(UnbuildableHandler))
            .And.Contain(nameof(IUnregisteredDependency));
    }

    [Fact]
    public async Task AddCron_SourceDiCannotBuild_FailsStartupNamingTheFanOutAndClass()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<UnbuildableSource>(FanOutId, "0 3 * * *", sends: Event)
            .AddHandler<RecordingHandler>("h", on: Event));

        message.Should().Contain($"Cron fan-out '{FanOutId}'")
            .And.Contain(nameof(UnbuildableSource))
            .And.Contain(nameof(IUnregisteredDependency));
    }

    [Fact]
    public async Task AddHandler_InterfaceItemType_FailsStartupNamingTheHandler()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddHandler<LoggingHandler<IShape>>("the-handler", on: Event));

        message.Should().Contain("Handler 'the-handler'").And.Contain(nameof(IShape)).And.Contain("JSON round trip");
    }

    [Fact]
    public async Task AddHandler_ItemTypeWithoutUsableConstructor_FailsStartupNamingTheHandler()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddHandler<LoggingHandler<SealedItem>>("the-handler", on: Event));

        message.Should().Contain("Handler 'the-handler'").And.Contain(nameof(SealedItem)).And.Contain("JSON round trip");
    }

    [Fact]
    public async Task AddHandler_HandlersOfOneEventTakeDifferentTypes_FailsStartupNamingTheEvent()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddHandler<RecordingHandler>("by-id", on: Event)
            .AddHandler<LoggingHandler<Account>>("by-account", on: Event));

        message.Should().Contain($"Event '{Event}'").And.Contain("different item types")
            .And.Contain("'by-id' takes String").And.Contain("'by-account' takes Account");
    }

    [Fact]
    public async Task AddCron_SourceItemTypeDiffersFromHandlers_FailsStartupNamingTheFanOut()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: AccountEvent)
            .AddHandler<LoggingHandler<Account>>("h", on: AccountEvent));

        message.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("source yields String").And.Contain("take Account");
    }

    [Fact]
    public async Task AddFanOut_SeveralProblems_ReportsEveryOneInOneException()
    {
        var message = await StartupFailureAsync(fanOut => fanOut
            .AddCron<ListSource>(FanOutId, "61 * * * *", sends: Event)
            .AddHandler<RecordingHandler>("the-handler", on: Event, o => o.Queue = "Not Valid"));

        message.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("Handler 'the-handler'");
    }

    [Fact]
    public async Task AddFanOut_WithoutAddHangfire_FailsStartupAskingForAddHangfire()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddFanOut().AddHandler<RecordingHandler>("h", on: Event);
        using var host = builder.Build();

        await host.Invoking(h => h.StartAsync())
            .Should().ThrowAsync<InvalidOperationException>()
            .WithMessage("*AddHangfire*");
    }

    [Fact]
    public async Task AddFanOut_ConfigurationWithBadCron_FailsStartupNamingTheFanOut()
    {
        var message = await StartupFailureAsync(
            fanOut => fanOut
                .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("h", on: Event),
            Configuration($"CronFanOuts:{FanOutId}:Cron", "bad"));

        message.Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("cron expression 'bad' is invalid");
    }

    [Fact]
    public async Task AddFanOut_ConfigurationDisablesFanOut_NoRecurringJobAndTriggerRefused()
    {
        var storage = TestHost.InMemory();
        await using var host = await TestHost.StartAsync(
            storage,
            fanOut => fanOut
                .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("h", on: Event),
            Configuration($"CronFanOuts:{FanOutId}:Enabled", "false"));

        using (var connection = storage.GetConnection())
        {
            connection.GetRecurringJobs().Select(j => j.Id).Should().NotContain($"fanout:{FanOutId}");
        }

        (await host.Client.Invoking(c => c.TriggerAsync(FanOutId)).Should().ThrowAsync<ArgumentException>())
            .WithParameterName("fanOutId")
            .WithMessage($"*'{FanOutId}'*disabled*");
    }

    [Fact]
    public async Task AddFanOut_ConfigurationOverridesCron_RecurringJobUsesTheConfiguredCron()
    {
        var storage = TestHost.InMemory();
        await using var host = await TestHost.StartAsync(
            storage,
            fanOut => fanOut
                .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("h", on: Event),
            Configuration($"CronFanOuts:{FanOutId}:Cron", "0 5 * * *"));

        using var connection = storage.GetConnection();
        connection.GetRecurringJobs().Should().ContainSingle(j => j.Id == $"fanout:{FanOutId}")
            .Which.Cron.Should().Be("0 5 * * *");
    }

    // ---- Registration: the AddCron / AddHandler call itself throws ----

    public static TheoryData<string?> InvalidIds => new()
    {
        null,
        string.Empty,
        "   ",
        "a:b",
        "a b",
        "ä",
        new string('a', 101),
    };

    [Fact]
    public void AddCron_DuplicateId_ThrowsForIdNamingIt()
    {
        var fanOut = new ServiceCollection().AddFanOut()
            .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event);

        fanOut.Invoking(f => f.AddCron<ListSource>(FanOutId, "0 4 * * *", sends: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("id")
            .WithMessage($"*'{FanOutId}'*already declared*");
    }

    [Fact]
    public void AddHandler_DuplicateId_ThrowsForIdNamingIt()
    {
        var fanOut = new ServiceCollection().AddFanOut()
            .AddHandler<RecordingHandler>("the-handler", on: Event);

        fanOut.Invoking(f => f.AddHandler<RecordingHandler>("the-handler", on: "other/event"))
            .Should().Throw<ArgumentException>()
            .WithParameterName("id")
            .WithMessage("*'the-handler'*already declared*");
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public void AddCron_InvalidId_ThrowsForId(string? id)
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddCron<ListSource>(id!, "0 3 * * *", sends: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("id");
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public void AddHandler_InvalidId_ThrowsForId(string? id)
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddHandler<RecordingHandler>(id!, on: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("id");
    }

    [Fact]
    public void AddCronAndAddHandler_IdsAtTheLimits_AreAccepted()
    {
        var longest = new string('a', 100);
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f
                .AddCron<ListSource>(longest, "0 3 * * *", sends: "Tenant-1.due/now_2")
                .AddHandler<RecordingHandler>(longest, on: "Tenant-1.due/now_2"))
            .Should().NotThrow();
    }

    [Fact]
    public void AddHandler_InvalidEventName_ThrowsForOnNamingIt()
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddHandler<RecordingHandler>("the-handler", on: "bad event"))
            .Should().Throw<ArgumentException>()
            .WithParameterName("on")
            .WithMessage("*'bad event'*");
    }

    [Fact]
    public void AddCron_EmptySends_ThrowsForSends()
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddCron<ListSource>(FanOutId, "0 3 * * *", sends: string.Empty))
            .Should().Throw<ArgumentException>()
            .WithParameterName("sends")
            .WithMessage($"*'{FanOutId}'*");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void AddCron_MissingCron_ThrowsForCron(string? cron)
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddCron<ListSource>(FanOutId, cron!, sends: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("cron");
    }

    [Fact]
    public void AddHandler_ClassNotAHandler_ThrowsForTHandler()
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddHandler<Recorder>("the-handler", on: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("THandler")
            .WithMessage($"*{nameof(Recorder)} does not implement IFanOutHandler*");
    }

    [Fact]
    public void AddHandler_ClassHandlingTwoItemTypes_ThrowsForTHandler()
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddHandler<TwoItemTypesHandler>("the-handler", on: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("THandler")
            .WithMessage($"*{nameof(TwoItemTypesHandler)}*more than once*");
    }

    [Fact]
    public void AddCron_ClassNotASource_ThrowsForTSource()
    {
        var fanOut = new ServiceCollection().AddFanOut();

        fanOut.Invoking(f => f.AddCron<Recorder>(FanOutId, "0 3 * * *", sends: Event))
            .Should().Throw<ArgumentException>()
            .WithParameterName("TSource")
            .WithMessage($"*{nameof(Recorder)} does not implement IFanOutSource*");
    }

    // ---- Run time: the host started fine ----

    [Fact]
    public async Task SendAsync_EventWithoutHandler_ThrowsForEventNameAndSendsNothing()
    {
        await using var host = await StartStringEventAsync();

        (await host.Client.Invoking(c => c.SendAsync("nobody/listens", "item-1")).Should().ThrowAsync<ArgumentException>())
            .WithParameterName("eventName")
            .WithMessage("*'nobody/listens'*");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Fact]
    public async Task SendAsync_NullItem_ThrowsForItem()
    {
        await using var host = await StartStringEventAsync();

        (await host.Client.Invoking(c => c.SendAsync<string>(Event, null!)).Should().ThrowAsync<ArgumentNullException>())
            .WithParameterName("item");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Fact]
    public async Task SendManyAsync_NullInTheMiddle_ThrowsNamingThePositionAndSendsNothing()
    {
        await using var host = await StartStringEventAsync();
        List<string?> items = ["item-0", "item-1", null, "item-3"];

        (await host.Client.Invoking(c => c.SendManyAsync(Event, items)).Should().ThrowAsync<ArgumentException>())
            .WithParameterName("items")
            .WithMessage($"*#2*'{Event}'*null*");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Theory]
    [InlineData("one", "item")]
    [InlineData("many", "items")]
    public async Task Send_ItemOverMaxItemBytes_ThrowsNamingTheLimitAndSendsNothing(string how, string paramName)
    {
        await using var host = await StartStringEventAsync(o => o.MaxItemBytes = 1024);
        var tooLarge = new string('x', 2000);
        Func<Task> send = how == "one"
            ? () => host.Client.SendAsync(Event, tooLarge)
            : () => host.Client.SendManyAsync(Event, ["item-0", tooLarge, "item-2"]);

        (await send.Should().ThrowAsync<ArgumentException>())
            .WithParameterName(paramName)
            .WithMessage("*2002 bytes*1024*MaxItemBytes*");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Fact]
    public async Task SendManyAsync_StreamFailsAfterTwoChunks_KeepsAndRunsTheItemsSent()
    {
        var recorder = new Recorder();
        await using var host = await StartStringEventAsync(o => o.ChunkSize = 500, recorder);

        var thrown = await host.Client.Invoking(c => c.SendManyAsync(Event, StreamAsync(1500, breakAt: 1200)))
            .Should().ThrowAsync<FanOutSendException>();

        var failure = thrown.Which;
        failure.ItemsSent.Should().Be(1000);
        failure.RunId.Should().NotBeNullOrEmpty();
        failure.InnerException.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("stream broke");
        failure.Message.Should().Contain($"'{Event}'").And.Contain("1000 items").And.Contain(failure.RunId);
        (await ChildJobsOnceSucceededAsync(host.Storage, 1000)).Should().HaveCount(1000)
            .And.OnlyContain(j => j.RunId == failure.RunId && j.State == "Succeeded");
        recorder.Calls.Select(c => c.Key).Should().BeEquivalentTo(Enumerable.Range(0, 1000).Select(ItemId));
    }

    [Theory]
    [InlineData("[1,2]", true)]
    [InlineData("abc", false)]
    [InlineData("null", true)]
    [InlineData("""{"id":"a1","seats":"three"}""", true)]
    public async Task SendAsync_ItemUnreadableAsTheEventsType_ThrowsNamingEventAndTypeAndSendsNothing(string item, bool asJsonElement)
    {
        await using var host = await StartAccountEventAsync();
        Func<Task> send = asJsonElement
            ? () => host.Client.SendAsync(AccountEvent, Json(item))
            : () => host.Client.SendAsync(AccountEvent, item);

        (await send.Should().ThrowAsync<ArgumentException>())
            .WithParameterName("item")
            .WithMessage($"*'{AccountEvent}'*cannot be read as {nameof(Account)}*");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Fact]
    public async Task SendManyAsync_ItemUnreadableAsTheEventsType_ThrowsForItemsAndSendsNothing()
    {
        await using var host = await StartAccountEventAsync();
        var items = new[] { """{"id":"a1","seats":3}""", "[1,2]" }.Select(Json).ToList();

        (await host.Client.Invoking(c => c.SendManyAsync(AccountEvent, items)).Should().ThrowAsync<ArgumentException>())
            .WithParameterName("items")
            .WithMessage($"*#1*'{AccountEvent}'*cannot be read as {nameof(Account)}*");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Fact]
    public async Task SendAsync_JsonElementMatchingTheEventsType_IsHandledAsTheRecord()
    {
        var log = new ItemLog<Account>();
        await using var host = await StartAccountEventAsync(log);

        await host.Client.SendAsync(AccountEvent, Json("""{"id":"a1","seats":3}"""));

        await Wait.UntilAsync(() => !log.Calls.IsEmpty, Timeout, () => "the account handler was not called");
        var (account, context) = log.Calls.Should().ContainSingle().Subject;
        account.Should().Be(new Account("a1", 3));
        context.ItemKey.Should().Be("a1");
    }

    [Fact]
    public async Task TriggerAsync_UnknownFanOut_ThrowsForFanOutIdNamingIt()
    {
        await using var host = await StartStringEventAsync();

        (await host.Client.Invoking(c => c.TriggerAsync("no-such-fan-out")).Should().ThrowAsync<ArgumentException>())
            .WithParameterName("fanOutId")
            .WithMessage("*'no-such-fan-out'*");
    }

    [Fact]
    public async Task Dispatch_SourceThrowsMidway_RetriedDispatchHandlesEachItemOncePerHandler()
    {
        var recorder = new Recorder();
        var fault = new SourceFault { FailAfter = 700 };
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut
                .AddCron<FaultySource>(FanOutId, "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("first", on: Event)
                .AddHandler<RecordingHandler>("second", on: Event),
            services => services
                .AddSingleton(recorder)
                .AddSingleton(fault)
                .AddSingleton(TestItems.Numbered(1000))
                .AddFanOut(o =>
                {
                    o.ChunkSize = 500;
                    o.DispatchRetryDelays.Add(TimeSpan.Zero);
                }));

        var runId = await host.Client.TriggerAsync(FanOutId);

        var jobs = await ChildJobsOnceSucceededAsync(host.Storage, 2000);
        jobs.Should().HaveCount(2000).And.OnlyContain(j => j.RunId == runId);
        jobs.Select(j => (j.HandlerId, j.ItemKey)).Should().OnlyHaveUniqueItems();
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems();
        recorder.CountOf("first").Should().Be(1000);
        recorder.CountOf("second").Should().Be(1000);
        recorder.Calls.Should().OnlyContain(c => c.Context.RunId == runId);

        fault.Calls.Should().Be(2, "the first dispatch attempt failed and Hangfire retried it");
        await Wait.UntilAsync(() => DispatchJobIds(host.Storage, "Succeeded").Any(), Timeout, () => "the dispatch job did not succeed");
        var history = JobCensus.History(host.Storage, DispatchJobIds(host.Storage, "Succeeded").Single());
        history.Should().Contain(s => s.StateName == "Failed" && s.Data["ExceptionMessage"].Contains("broke after 700 items"));
        history.Should().Contain(s => (s.StateName == "Enqueued" || s.StateName == "Scheduled")
            && s.Reason != null && s.Reason.StartsWith("Retry attempt 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dispatch_SourceYieldsNull_FailsTheDispatchJobNamingTheFanOut()
    {
        var items = TestItems.Numbered(10);
        items.Ids.Insert(5, null!);
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut
                .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("h", on: Event),
            services => services
                .AddSingleton(new Recorder())
                .AddSingleton(items)
                .AddFanOut(o => o.DispatchRetryAttempts = 0));

        await host.Client.TriggerAsync(FanOutId);

        await Wait.UntilAsync(() => DispatchJobIds(host.Storage, "Failed").Any(), Timeout, () => "the dispatch job did not fail");
        var failed = JobCensus.History(host.Storage, DispatchJobIds(host.Storage, "Failed").Single())
            .First(s => s.StateName == "Failed");
        failed.Data["ExceptionMessage"].Should().Contain($"Cron fan-out '{FanOutId}'").And.Contain("#5").And.Contain("null");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    [Fact]
    public async Task Handler_FailingEveryAttempt_EndsFailedAfterItsRetriesRunOut()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut.AddHandler<AlwaysFailingHandler>("h", on: Event, o =>
            {
                o.RetryAttempts = 1;
                o.RetryDelays.Add(TimeSpan.Zero);
            }),
            services => services.AddSingleton(recorder));

        await host.Client.SendAsync(Event, "item-1");

        await Wait.UntilAsync(
            () => JobCensus.ChildJobs(host.Storage).Any(j => j.State == "Failed"),
            Timeout,
            () => $"the job is {JobCensus.ChildJobs(host.Storage).SingleOrDefault()?.State}");
        var job = JobCensus.ChildJobs(host.Storage).Should().ContainSingle().Subject;
        job.State.Should().Be("Failed");
        recorder.Attempts["h|item-1"].Should().Be(2);
        JobCensus.History(host.Storage, job.JobId).Count(s => s.StateName == "Processing").Should().Be(2);
        host.Storage.GetMonitoringApi().FailedJobs(0, 10).Select(j => j.Key).Should().Equal(job.JobId);
    }

    [Fact]
    public async Task SendManyAsync_CancelledMidStream_ThrowsWrappingTheCancellationAndKeepsTheFirstChunk()
    {
        var recorder = new Recorder();
        await using var host = await StartStringEventAsync(o => o.ChunkSize = 500, recorder);
        using var cancel = new CancellationTokenSource();

        var thrown = await host.Client
            .Invoking(c => c.SendManyAsync(Event, StreamAsync(1500, cancelAt: 600, cancel: cancel), cancel.Token))
            .Should().ThrowAsync<FanOutSendException>();

        await AssertFirstChunkKeptAsync(thrown.Which, host.Storage);
        recorder.Calls.Select(c => c.Key).Should().BeEquivalentTo(Enumerable.Range(0, 500).Select(ItemId));
    }

    [Fact]
    public async Task SendManyAsync_CancelledWhileTheStreamIgnoresTheToken_StopsBeforeTheNextChunk()
    {
        await using var host = await StartStringEventAsync(o => o.ChunkSize = 500);
        using var cancel = new CancellationTokenSource();

        var thrown = await host.Client
            .Invoking(c => c.SendManyAsync(Event, StreamAsync(1500, cancelAt: 600, cancel: cancel, observeToken: false), cancel.Token))
            .Should().ThrowAsync<FanOutSendException>();

        await AssertFirstChunkKeptAsync(thrown.Which, host.Storage);
    }

    [Fact]
    public async Task SendManyAsync_TokenAlreadyCancelled_ThrowsAndSendsNothing()
    {
        await using var host = await StartStringEventAsync();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        var thrown = await host.Client
            .Invoking(c => c.SendManyAsync(Event, new[] { "item-0", "item-1" }, cancel.Token))
            .Should().ThrowAsync<Exception>();

        (thrown.Which as OperationCanceledException ?? thrown.Which.InnerException as OperationCanceledException)
            .Should().NotBeNull("a cancelled send surfaces the cancellation, bare or wrapped in a FanOutSendException");
        JobCensus.ChildJobs(host.Storage).Should().BeEmpty();
    }

    private static async Task AssertFirstChunkKeptAsync(FanOutSendException failure, JobStorage storage)
    {
        failure.ItemsSent.Should().Be(500);
        failure.InnerException.Should().BeAssignableTo<OperationCanceledException>();
        (await ChildJobsOnceSucceededAsync(storage, 500)).Should().HaveCount(500)
            .And.OnlyContain(j => j.RunId == failure.RunId && j.State == "Succeeded");
    }

    // ---- Helpers ----

    private static Task<string> StartupFailureAsync(Action<IFanOutBuilder> configure, Action<IServiceCollection>? services = null) =>
        TestHost.StartupFailureAsync(configure, services);

    /// <summary>
    /// The census reads one state list after another, so a job moving between lists can be missed; once at least
    /// <paramref name="count"/> child jobs succeeded, the ones a test expects have stopped moving.
    /// </summary>
    private static async Task<IReadOnlyList<ChildJob>> ChildJobsOnceSucceededAsync(JobStorage storage, int count)
    {
        // A cheap count first (it includes dispatch jobs), so the full census is not read over and over.
        await Wait.UntilAsync(() => JobCensus.Succeeded(storage) >= count, Timeout, () => $"{JobCensus.Succeeded(storage)} of {count} jobs succeeded");
        await Wait.UntilAsync(
            () => JobCensus.ChildJobs(storage).Count(j => j.State == "Succeeded") >= count,
            Timeout,
            () => $"{JobCensus.ChildJobs(storage).Count(j => j.State == "Succeeded")} of {count} child jobs succeeded");
        return JobCensus.ChildJobs(storage);
    }

    private static Action<IServiceCollection> Configuration(string key, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>($"FanOut:{key}", value)])
            .Build();
        return services => services
            .AddSingleton(new Recorder())
            .AddSingleton(new TestItems())
            .AddFanOut(configuration.GetSection("FanOut"));
    }

    private static Task<TestHost> StartStringEventAsync(Action<FanOutOptions>? options = null, Recorder? recorder = null) =>
        TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut
                .AddCron<ListSource>(FanOutId, "0 3 * * *", sends: Event)
                .AddHandler<RecordingHandler>("h", on: Event),
            services => services
                .AddSingleton(recorder ?? new Recorder())
                .AddSingleton(new TestItems())
                .AddFanOut(options ?? (_ => { })));

    private static Task<TestHost> StartAccountEventAsync(ItemLog<Account>? log = null) =>
        TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut.AddHandler<LoggingHandler<Account>>("accounts", on: AccountEvent),
            services => services.AddSingleton(log ?? new ItemLog<Account>()));

    private static IEnumerable<string> DispatchJobIds(JobStorage storage, string state)
    {
        var api = storage.GetMonitoringApi();
        var jobs = state == "Failed"
            ? api.FailedJobs(0, 1000).Select(j => (j.Key, j.Value.Job))
            : api.SucceededJobs(0, 10_000).Select(j => (j.Key, j.Value.Job));
        return jobs.Where(j => j.Job?.Type == typeof(FanOutDispatchJob)).Select(j => j.Key).ToList();
    }

    private static string ItemId(int i) => $"item-{i:D6}";

    private static JsonElement Json(string json) => JsonSerializer.Deserialize<JsonElement>(json);

    /// <summary>
    /// A client-side stream of items: it throws before item <paramref name="breakAt"/>, or cancels
    /// <paramref name="cancel"/> before item <paramref name="cancelAt"/>, and observes the token unless told not to.
    /// </summary>
    private static async IAsyncEnumerable<string> StreamAsync(
        int count,
        int breakAt = -1,
        int cancelAt = -1,
        CancellationTokenSource? cancel = null,
        bool observeToken = true,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            if (i == breakAt)
            {
                throw new InvalidOperationException($"The stream broke at item {i}.");
            }

            if (i == cancelAt)
            {
                await cancel!.CancelAsync();
            }

            if (observeToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            yield return ItemId(i);
        }
    }
}
