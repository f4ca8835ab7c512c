using System.Runtime.CompilerServices;
using FanOut.Hangfire.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests;

public sealed class ClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Send_OneItemArrayAndStream_EachIsOneRunWithItsOwnId()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("notify", on: "tenant/due")
            .AddHandler<RecordingHandler>("audit", on: "tenant/due"),
            services => services.AddSingleton(recorder));

        var one = await host.Client.SendAsync("tenant/due", "t-0");
        var array = await host.Client.SendManyAsync("tenant/due", new[] { "t-1", "t-2" });
        var stream = await host.Client.SendManyAsync("tenant/due", Stream(3, 700));

        await Wait.UntilAsync(() => recorder.Calls.Count >= 2 * 703, Timeout, () => $"{recorder.Calls.Count} of 1406 calls");
        new[] { one, array, stream }.Should().OnlyHaveUniqueItems();
        recorder.Calls.Where(c => c.Context.RunId == one).Should().HaveCount(2);
        recorder.Calls.Where(c => c.Context.RunId == array).Should().HaveCount(4);
        recorder.Calls.Where(c => c.Context.RunId == stream).Should().HaveCount(1400);
        recorder.Calls.Select(c => (c.Handler, c.Key)).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Send_ObjectItems_RoundTripAndUseIdAsKey_HandlerScopePerJob()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<AccountHandler>("seats", on: "account/changed"),
            services => services.AddSingleton(recorder).AddScoped<ScopeMarker>());

        await host.Client.SendManyAsync("account/changed", new[] { new Account("a-1", 3), new Account("a-2", 5) });

        await Wait.UntilAsync(() => recorder.Calls.Count >= 2, Timeout, () => $"{recorder.Calls.Count} of 2 calls");
        recorder.Calls.Select(c => c.Context.ItemKey).Should().BeEquivalentTo("a-1", "a-2");
        var seen = recorder.Calls.Select(c => c.Key.Split(':')).ToList();
        seen.Select(s => $"{s[0]}:{s[1]}").Should().BeEquivalentTo("a-1:3", "a-2:5");
        seen.Select(s => s[2]).Distinct().Should().HaveCount(2, "each job resolves its handler in a scope of its own");
    }

    [Fact]
    public async Task Handler_Context_HasRunAttemptJobAndIdempotencyKeyStableAcrossRetries()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<FlakyHandler>("flaky", on: "tenant/due", o => o.RetryDelays.Add(TimeSpan.Zero)),
            services => services.AddSingleton(recorder));

        var runId = await host.Client.SendAsync("tenant/due", "tenant-000003");

        await Wait.UntilAsync(() => recorder.Calls.Count >= 1, Timeout, () => "the retried call to succeed");
        var call = recorder.Calls.Single();
        call.Context.Attempt.Should().Be(2, "the first attempt failed");
        call.Context.RunId.Should().Be(runId);
        call.Context.EventName.Should().Be("tenant/due");
        call.Context.HandlerId.Should().Be("flaky");
        call.Context.ItemKey.Should().Be("tenant-000003");
        call.Context.IdempotencyKey.Should().Be($"{runId}/flaky/tenant-000003");
        call.Context.JobId.Should().NotBeNullOrEmpty();
        JobCensus.ChildJobs(host.Storage).Should().ContainSingle().Which.JobId.Should().Be(call.Context.JobId);
    }

    [Fact]
    public async Task Handler_Queue_RoutesItsJobsToThatQueue()
    {
        var recorder = new Recorder();
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<RecordingHandler>("urgent", on: "tenant/due", o => o.Queue = "critical")
            .AddHandler<RecordingHandler>("later", on: "tenant/due", o => o.Queue = "slow"),
            services => services.AddSingleton(recorder),
            server: false);

        await host.Client.SendAsync("tenant/due", "t-1");

        var jobs = JobCensus.ChildJobs(host.Storage);
        jobs.Should().HaveCount(2).And.OnlyContain(j => j.State == "Enqueued");
        jobs.Single(j => j.HandlerId == "urgent").Queue.Should().Be("critical");
        jobs.Single(j => j.HandlerId == "later").Queue.Should().Be("slow");
        host.Storage.GetMonitoringApi().Queues().Select(q => (q.Name, q.Length))
            .Should().Contain(new[] { ("critical", 1L), ("slow", 1L) });
    }

    [Fact]
    public async Task Handler_CancellationToken_FiresOnServerShutdown()
    {
        var recorder = new Recorder();
        var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut
            .AddHandler<WaitForShutdownHandler>("long", on: "tenant/due"),
            services => services.AddSingleton(recorder));
        await host.Client.SendAsync("tenant/due", "t-1");
        await Wait.UntilAsync(() => recorder.CountOf("started") == 1, Timeout, () => "the handler to start");

        await host.DisposeAsync();

        recorder.CountOf("cancelled").Should().Be(1);
    }

    private static async IAsyncEnumerable<string> Stream(int from, int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = from; i < from + count; i++)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return $"t-{i}";
        }
    }
}
