using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// Scale-out is Hangfire's own: three server processes on one PostgreSQL database, a cron every 2 seconds. Each firing
/// is one run, dispatches of a fan-out never run at once, and the child jobs run on every server.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScaleOutTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task ScaleOut_ThreeServersCronEveryTwoSeconds_EachFiringMakesExactlyOneRun()
    {
        var outcome = await ScaleOutScenario.RunOnceAsync(postgres, output);
        var items = outcome.FanOuts[ScaleOutScenario.Items];
        var skipped = items.Firings.Count(f => f.Result?.StartsWith("Skipped:", StringComparison.Ordinal) == true);
        output.WriteLine($"'{items.FanOutId}' fired {items.Firings.Count} times; {skipped} found the previous dispatch still running.");

        DispatchPaths.Verify([.. outcome.HostLines], DispatchPaths.PostgreSql);
        items.Firings.Should().HaveCountGreaterThanOrEqualTo(ScaleOutScenario.Firings)
            .And.OnlyContain(f => f.State == "Succeeded" && f.RunId != null);
        items.Firings.Select(f => f.FiringTime).Should().OnlyHaveUniqueItems("each scheduled second fires once across the three servers");
        items.Firings.Select(f => f.RunId).Should().OnlyHaveUniqueItems("each firing is its own run");
        items.Runs.Keys.Should().BeEquivalentTo(items.Firings.Select(f => f.RunId), "every run recorded is one firing's, and every firing recorded one");
        items.Runs.Values.Should().OnlyContain(r => r.Status == "dispatched" || r.Status == "skipped");

        var dispatched = items.Runs.Values.Where(r => r.Status == "dispatched").Select(r => r.RunId).ToList();
        var jobsByRun = outcome.ChildJobs.Where(j => items.Runs.ContainsKey(j.RunId)).GroupBy(j => j.RunId).ToDictionary(g => g.Key, g => g.ToList());
        jobsByRun.Keys.Should().BeEquivalentTo(dispatched, "a dispatched run has jobs, a skipped one none");
        foreach (var (runId, jobs) in jobsByRun)
        {
            jobs.Select(j => j.ItemKey).Should().OnlyHaveUniqueItems().And.HaveCount(ScaleOutScenario.ItemsPerFiring, $"run {runId} has one job per item");
        }

        items.Firings.Where(f => items.Runs[f.RunId!].Status == "dispatched").Should()
            .OnlyContain(f => f.Result!.Contains($"dispatched {ScaleOutScenario.ItemsPerFiring} items", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScaleOut_ThreeServers_NeverTwoDispatchesOfOneFanOutAtOnce()
    {
        var outcome = await ScaleOutScenario.RunOnceAsync(postgres, output);

        foreach (var history in outcome.FanOuts.Values)
        {
            var dispatched = history.Runs.Values.Where(r => r.Status == "dispatched").ToList();
            history.SourceReads.Should().OnlyContain(r => r.FinishedAt != null, $"every read of '{history.FanOutId}' finished")
                .And.HaveCount(dispatched.Count, $"each dispatched run of '{history.FanOutId}' read its source once");
            Intervals.Overlapping(
                    history.SourceReads,
                    r => Intervals.Utc(r.StartedAt),
                    r => Intervals.Utc(r.FinishedAt!.Value),
                    r => $"the source read of run {r.RunId} (pid {r.Pid})")
                .Should().BeEmpty($"dispatches of '{history.FanOutId}' never overlap, whichever server runs them");
            Intervals.Overlapping(
                    dispatched,
                    r => r.DispatchStartedAt!.Value,
                    r => r.DispatchFinishedAt!.Value,
                    r => $"run {r.RunId}")
                .Should().BeEmpty($"the run records of '{history.FanOutId}' agree");
        }
    }

    [Fact]
    public async Task ScaleOut_ThreeServers_ChildJobsRunOnEveryServer()
    {
        var outcome = await ScaleOutScenario.RunOnceAsync(postgres, output);
        var byServer = outcome.Executions.GroupBy(e => e.Pid).ToDictionary(g => g.Key, g => g.Count());
        var dispatchServers = outcome.FanOuts.Values.SelectMany(h => h.SourceReads).Select(r => r.Pid).Distinct().Count();
        output.WriteLine($"Handler calls by server: {string.Join(", ", byServer.Select(s => $"pid {s.Key}: {s.Value}"))}; dispatches ran on {dispatchServers} servers.");

        byServer.Keys.Should().BeEquivalentTo(outcome.ServerPids, "every server runs child jobs");
        byServer.Values.Should().OnlyContain(
            calls => calls >= outcome.Executions.Count / 20,
            "the jobs spread over the servers (each ran at least 5%)");
        outcome.ChildJobs.Should().OnlyContain(j => j.State == "Succeeded");
        outcome.Executions.Where(e => e.FinishedAt != null).Select(e => (e.RunId, e.ItemKey)).Distinct().Should()
            .HaveCount(outcome.ChildJobs.Count, "every child job's handler completed");
    }
}
