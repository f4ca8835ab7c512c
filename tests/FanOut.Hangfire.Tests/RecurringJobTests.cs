using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests;

public sealed class RecurringJobTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Startup_RegistersRecurringJobWithCronTimeZoneAndQueue()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("slack-notification-cron", "0 9,12 * * MON,FRI", sends: "app/notification.dispatched", o =>
            {
                o.TimeZone = "Europe/Paris";
                o.Queue = "critical";
            })
            .AddHandler<RecordingHandler>("send-slack-notification", on: "app/notification.dispatched"),
            services => services.AddSingleton(new Recorder()).AddSingleton(new TestItems()),
            server: false);

        var recurring = RecurringJobs(host.Storage).Should().ContainSingle().Subject;
        recurring.Id.Should().Be("fanout:slack-notification-cron");
        recurring.Cron.Should().Be("0 9,12 * * MON,FRI");
        recurring.TimeZoneId.Should().Be("Europe/Paris");
        recurring.Job.Queue.Should().Be("critical", "the queue travels on the job, so every firing and retry keeps it");
        recurring.Job.Type.Should().Be(typeof(FanOutDispatchJob));
        recurring.NextExecution.Should().NotBeNull();
        var next = TimeZoneInfo.ConvertTimeFromUtc(recurring.NextExecution!.Value, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
        next.Hour.Should().BeOneOf(9, 12);
        next.DayOfWeek.Should().BeOneOf(DayOfWeek.Monday, DayOfWeek.Friday);
    }

    [Fact]
    public async Task Startup_RemovesOwnedRecurringJobsNoLongerDeclared_AndKeepsOthers()
    {
        var storage = TestHost.InMemory();
        var manager = new RecurringJobManager(storage);
        manager.AddOrUpdate("fanout:retired", Job.FromExpression(() => Console.WriteLine("old")), Cron.Daily());
        manager.AddOrUpdate("users-own-job", Job.FromExpression(() => Console.WriteLine("mine")), Cron.Daily());

        await using var host = await TestHost.StartAsync(storage, fanOut => fanOut
            .AddCron<ListSource>("current", "0 3 * * *", sends: "tenant/due")
            .AddCron<ListSource>("switched-off", "0 4 * * *", sends: "tenant/due", o => o.Enabled = false)
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(new Recorder()).AddSingleton(new TestItems()),
            server: false);

        RecurringJobs(storage).Select(r => r.Id).Should().BeEquivalentTo("fanout:current", "users-own-job");
    }

    [Fact]
    public async Task CronWithSeconds_FiresOnScheduleAndEachFiringIsOneRun()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(3);
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("every-second", "* * * * * *", sends: "tenant/due")
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(recorder).AddSingleton(items));

        await Wait.UntilAsync(
            () => recorder.Calls.Select(c => c.Context.RunId).Distinct().Count() >= 2,
            Timeout,
            () => $"{recorder.Calls.Count} calls so far");

        var byRun = recorder.Calls.GroupBy(c => c.Context.RunId).ToList();
        byRun.Should().OnlyContain(run => run.Select(c => c.Key).Distinct().Count() == run.Count(), "no run handles an item twice");
    }

    [Fact]
    public async Task DashboardTriggerNow_DispatchesLikeACronFiring()
    {
        var recorder = new Recorder();
        var items = TestItems.Numbered(5);
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddCron<ListSource>("nightly", "0 3 * * *", sends: "tenant/due")
            .AddHandler<RecordingHandler>("notify", on: "tenant/due"),
            services => services.AddSingleton(recorder).AddSingleton(items));

        // The dashboard's "Trigger now" button calls this.
        host.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:nightly");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 5, Timeout, () => $"{recorder.Calls.Count} of 5 calls");
        recorder.Calls.Select(c => c.Context.RunId).Distinct().Should().ContainSingle();
    }

    private static List<RecurringJobDto> RecurringJobs(JobStorage storage)
    {
        using var connection = storage.GetConnection();
        return connection.GetRecurringJobs();
    }
}
