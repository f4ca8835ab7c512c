using System.Reflection;
using FanOut.Hangfire.Tests.Fakes;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests;

public sealed class DisplayNameTests
{
    [Fact]
    public async Task ChildJob_DashboardName_IsHandlerIdAndItemKey()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<AccountHandler>("seats", on: "account/changed"),
            services => services.AddSingleton(new Recorder()).AddScoped<ScopeMarker>(),
            server: false);
        await host.Client.SendAsync("account/changed", new Account("acct-42", 7));

        var job = host.Storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10).Single().Value.Job;

        NameOf(job).Should().Be("seats · acct-42");
    }

    [Fact]
    public void DispatchJob_DashboardName_NamesTheFanOut()
    {
        var job = new global::Hangfire.Common.Job(
            typeof(FanOutDispatchJob),
            typeof(FanOutDispatchJob).GetMethod(nameof(FanOutDispatchJob.DispatchAsync))!,
            "slack-notification-cron", null, null, CancellationToken.None);

        NameOf(job).Should().Be("Fan-out slack-notification-cron");
    }

    // The dashboard renders a job's name through its JobDisplayName attribute, as here.
    private static string NameOf(global::Hangfire.Common.Job job) =>
        job.Method.GetCustomAttribute<JobDisplayNameAttribute>()!.Format(null!, job);
}
