using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// docs/design.md invariant 3 across processes: a source slower than its cron interval, on three servers. With
/// <see cref="FanOutOverlap.Skip"/> a firing that finds a dispatch running is skipped and logged; with
/// <see cref="FanOutOverlap.Wait"/> it waits and runs after it. Never two dispatches at once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OverlapProcessTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Overlap_Skip_FiringsDuringASlowDispatchAreSkippedAndLogged_NeverConcurrent()
    {
        var outcome = await ScaleOutScenario.RunOnceAsync(postgres, output);
        var history = outcome.FanOuts[ScaleOutScenario.SlowSkip];
        var skipped = history.Firings.Where(f => f.Result?.StartsWith("Skipped:", StringComparison.Ordinal) == true).ToList();
        var dispatched = history.Firings.Except(skipped).ToList();
        output.WriteLine($"'{history.FanOutId}' fired {history.Firings.Count} times: {dispatched.Count} dispatched, {skipped.Count} skipped.");

        history.Firings.Should().OnlyContain(f => f.State == "Succeeded" && f.RunId != null);
        dispatched.Should().HaveCountGreaterThanOrEqualTo(2)
            .And.OnlyContain(f => f.Result!.Contains($"dispatched {ScaleOutScenario.SlowItemsPerFiring} items", StringComparison.Ordinal));
        skipped.Should().NotBeEmpty("the source takes 5 s and the cron fires every 2 s");

        foreach (var firing in skipped)
        {
            history.Runs[firing.RunId!].Status.Should().Be("skipped", "a skipped firing is recorded as a skipped run");
            var holder = firing.Result!.Split(' ')[2];
            var holding = history.Runs[holder];
            holding.Status.Should().Be("dispatched", $"firing {firing.JobId} names run {holder} as the dispatch it found running");
            var skippedAt = history.Runs[firing.RunId!].DispatchStartedAt!.Value;
            skippedAt.Should().BeOnOrAfter(holding.DispatchStartedAt!.Value).And.BeOnOrBefore(
                holding.DispatchFinishedAt!.Value + TimeSpan.FromSeconds(1),
                "the firing was skipped while that run was dispatching");
            outcome.HostLines.Should().Contain(
                l => l.StartsWith("log|Warning|", StringComparison.Ordinal)
                     && l.Contains($"firing {firing.RunId} skipped: run {holder} is still dispatching", StringComparison.Ordinal),
                "every skip is logged as a warning");
        }

        Intervals.Overlapping(history.SourceReads, r => Intervals.Utc(r.StartedAt), r => Intervals.Utc(r.FinishedAt!.Value), r => $"run {r.RunId}")
            .Should().BeEmpty("two dispatches of one fan-out never run at once");
        history.SourceReads.Select(r => r.RunId).Should().BeEquivalentTo(dispatched.Select(f => f.RunId), "a skipped firing never reads the source");
        outcome.ChildJobs.Where(j => history.Runs.ContainsKey(j.RunId)).GroupBy(j => j.RunId).Should()
            .HaveCount(dispatched.Count).And.OnlyContain(g => g.Count() == ScaleOutScenario.SlowItemsPerFiring);
    }

    [Fact]
    public async Task Overlap_Wait_FiringsWaitForTheRunningDispatch_AllRunAndNeverConcurrently()
    {
        var outcome = await ScaleOutScenario.RunOnceAsync(postgres, output);
        var history = outcome.FanOuts[ScaleOutScenario.SlowWait];
        output.WriteLine($"'{history.FanOutId}' fired {history.Firings.Count} times.");

        history.Firings.Should().HaveCountGreaterThanOrEqualTo(3)
            .And.OnlyContain(f => f.State == "Succeeded" && f.Result!.Contains($"dispatched {ScaleOutScenario.SlowItemsPerFiring} items", StringComparison.Ordinal),
                "with Wait, every firing runs");
        history.Firings.Select(f => f.RunId).Should().OnlyHaveUniqueItems();
        history.Runs.Values.Should().OnlyContain(r => r.Status == "dispatched");
        history.SourceReads.Select(r => r.RunId).Should().BeEquivalentTo(history.Firings.Select(f => f.RunId), "each firing read the source once");
        Intervals.Overlapping(history.SourceReads, r => Intervals.Utc(r.StartedAt), r => Intervals.Utc(r.FinishedAt!.Value), r => $"run {r.RunId}")
            .Should().BeEmpty("a waiting firing starts its dispatch only once the running one ended");

        var waited = history.Firings.Count(f =>
        {
            var read = history.SourceReads.Single(r => r.RunId == f.RunId);
            return history.SourceReads.Any(other => other.RunId != f.RunId
                && other.StartedAt < history.FiringStartedAt[f.JobId]
                && other.FinishedAt > history.FiringStartedAt[f.JobId]
                && other.FinishedAt <= read.StartedAt);
        });
        output.WriteLine($"{waited} firings started while another dispatch ran, and waited for it.");
        waited.Should().BeGreaterThan(0, "the source takes 3.3 s and the cron fires every 3 s, so firings find one running");
        outcome.ChildJobs.Where(j => history.Runs.ContainsKey(j.RunId)).GroupBy(j => j.RunId).Should()
            .HaveCount(history.Firings.Count).And.OnlyContain(g => g.Count() == ScaleOutScenario.SlowItemsPerFiring);
    }
}
