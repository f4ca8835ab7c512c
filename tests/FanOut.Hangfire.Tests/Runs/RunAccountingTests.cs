using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Runs;

[Collection(PostgresCollection.Name)]
public sealed class RunAccountingTests(PostgresServer postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Counters_TwoServersOnPostgres_ExactThroughFailuresRetryAndRecompletion()
    {
        var database = await postgres.CreateDatabaseAsync();
        var recorder = new Recorder();
        var items = TestItems.Numbered(600);
        var broken = new BrokenItems();
        foreach (var id in items.Ids.Where((_, i) => i % 50 == 7))
        {
            broken.Keys[id] = true;
        }

        var completions = new CompletionRecorder();
        void Declare(IFanOutBuilder fanOut) => fanOut
            .AddCron<ListSource>("tenants", "0 3 * * *", sends: "tenant/due")
            .AddHandler<SometimesBrokenHandler>("notify", on: "tenant/due", o => o.RetryAttempts = 0)
            .AddHandler<RecordingHandler>("audit", on: "tenant/due")
            .AddCompletionHandler<CompletionRecorder>(of: "tenants");
        void Services(IServiceCollection services) => services
            .AddSingleton(recorder).AddSingleton(items).AddSingleton(broken).AddSingleton(completions);

        await using var first = await TestHost.StartAsync(TestHost.Postgres(database), Declare, Services, workers: 4);
        await using var second = await TestHost.StartAsync(TestHost.Postgres(database), Declare, Services, workers: 4);
        var runs = first.Services.GetRequiredService<IFanOutRuns>();

        var runId = await first.Client.TriggerAsync("tenants");
        await Wait.UntilAsync(() => completions.Completions.Count >= 1, Timeout, () => $"run to complete; {Describe(runs, runId)}");

        var run = (await runs.GetAsync(runId))!;
        run.Status.Should().Be(FanOutRunStatus.CompletedWithFailures, "some of its items failed");
        run.DispatchedItems.Should().Be(600);
        run.Handlers.Should().HaveCount(2);
        var notify = run.Handlers.Single(h => h.HandlerId == "notify");
        notify.Should().BeEquivalentTo(new { Dispatched = 600L, Succeeded = 588L, Failed = 12L, Deleted = 0L, InFlight = 0L });
        run.Handlers.Single(h => h.HandlerId == "audit").Should().BeEquivalentTo(new { Dispatched = 600L, Succeeded = 600L, Failed = 0L, InFlight = 0L });
        var failed = await runs.GetFailedItemsAsync(runId);
        failed.Select(f => f.ItemKey).Should().BeEquivalentTo(broken.Keys.Keys);
        failed.Should().OnlyContain(f => f.HandlerId == "notify" && f.ExceptionMessage!.Contains("is broken") && f.JobId.Length > 0);

        var completion = completions.Completions.Single();
        completion.IsRecompletion.Should().BeFalse();
        completion.FailedItems.Should().HaveCount(12);
        completion.Run.Failed.Should().Be(12);

        broken.Keys.Clear();
        (await runs.RetryFailedAsync(runId)).Should().Be(12);
        await Wait.UntilAsync(() => completions.Completions.Count >= 2, Timeout, () => $"run to complete again; {Describe(runs, runId)}");

        var again = (await runs.GetAsync(runId))!;
        again.Handlers.Single(h => h.HandlerId == "notify").Should().BeEquivalentTo(new { Succeeded = 600L, Failed = 0L, InFlight = 0L });
        again.Completions.Should().Be(2);
        (await runs.GetFailedItemsAsync(runId)).Should().BeEmpty();
        var recompletion = completions.Completions.Last();
        recompletion.IsRecompletion.Should().BeTrue();
        recompletion.Completion.Should().Be(2);
        recompletion.FailedItems.Should().BeEmpty();

        // Both servers watch the run; each completion still made exactly one completion job.
        int CompletionJobs() => first.Storage.GetMonitoringApi().SucceededJobs(0, 5000)
            .Count(j => j.Value.Job?.Type == typeof(FanOutCompletionJob));
        await Wait.UntilAsync(() => CompletionJobs() >= 2, Timeout, () => $"{CompletionJobs()} completion jobs succeeded");
        CompletionJobs().Should().Be(2);
        (await runs.GetAsync(runId))!.Completions.Should().Be(2);
        completions.Completions.Should().HaveCount(2);
        (await runs.ListAsync("tenants")).Select(r => r.RunId).Should().Equal(runId);
    }

    private static string Describe(IFanOutRuns runs, string runId)
    {
        var run = runs.GetAsync(runId).GetAwaiter().GetResult();
        return run is null
            ? "no run record"
            : $"status {run.Status}, items {run.DispatchedItems}, " + string.Join("; ", run.Handlers.Select(h => $"{h.HandlerId}: {h.Succeeded} ok, {h.Failed} failed, {h.InFlight} in flight"));
    }
}
