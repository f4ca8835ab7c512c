using System.Diagnostics;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// A run as a user sees it, from the trigger to its completion: N items of no-op work, the Hangfire server running all
/// along (so creating jobs and running them overlap, as in production), three ways on the same kind of host and server:
/// plain Hangfire (an <c>IBackgroundJobClient.Enqueue</c> loop, timed until every job has succeeded), FanOut with an item
/// handler (one job an item) and FanOut with a batch handler (up to B items a job), both timed from
/// <c>IFanOutClient.SendManyAsync</c> until <c>IFanOutRuns.GetAsync</c> reads the run completed. Every run gets a fresh
/// database (or in-memory storage) and host.
/// </summary>
internal static class EndToEndBenchmark
{
    private const string HandlerId = "bench";

    // Untimed, before the first run: .NET compiles hot code in tiers, and the first run of a process would be timed on
    // code not yet optimized. Every way gets the same warm-up.
    private const int WarmUpItems = 1_000;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private enum Way
    {
        Plain,
        PerItem,
        Batched,
    }

    public static async Task RunAsync(BenchmarkOptions options)
    {
        var items = options.Items ?? 10_000;
        var onPostgres = options.Storage == "postgres";
        await using var postgres = onPostgres ? await BenchmarkPostgres.StartAsync(options.Durable) : null;
        var profile = options.Profile && postgres is not null && await postgres.CountStatementsAsync();
        var ways = Enum.GetValues<Way>();

        Console.WriteLine("warm-up, not timed");
        foreach (var way in ways)
        {
            await MeasureAsync(postgres, way, Math.Min(items, WarmUpItems), options, profile: false);
        }

        var runs = ways.ToDictionary(w => w, _ => new List<EndToEndRun>());
        for (var run = 1; run <= options.Repeat; run++)
        {
            Console.WriteLine($"run {run} of {options.Repeat}");

            // Rotate which goes first, so none always runs on a warmer (or busier) machine. The first run goes batched,
            // per item, plain: an invocation cut short still has the two ways the speedup compares.
            for (var i = 0; i < ways.Length; i++)
            {
                var way = ways[(run + 1 - i + ways.Length) % ways.Length];
                var measured = await MeasureAsync(postgres, way, items, options, profile);
                runs[way].Add(measured);
                Console.WriteLine(
                    $"  {Label(way, options.BatchSize)}: {Format.Seconds(measured.Elapsed)} to complete, last item handled at {Format.Seconds(measured.Handled)}, " +
                    $"{Format.Count(measured.Calls)} calls, {Format.Rate(items / measured.Elapsed.TotalSeconds)} items/s");
            }
        }

        var best = ways.ToDictionary(w => w, w => runs[w].MinBy(r => r.Elapsed)!);
        var plain = best[Way.Plain].Elapsed;
        var table = new ResultTable(
            $"end-to-end · {options.Storage} · {Format.Count(items)} items · {options.Workers} workers · best of {options.Repeat}",
            "From the trigger to the run complete, no-op work", "jobs run", "best time", "items/s", "last item handled", "vs plain", "vs per-item");
        foreach (var way in ways)
        {
            table.Add(
                Row(way, options.BatchSize),
                Format.Count(best[way].Calls),
                Format.Seconds(best[way].Elapsed),
                Format.Rate(items / best[way].Elapsed.TotalSeconds),
                Format.Seconds(best[way].Handled),
                Format.Ratio(plain / best[way].Elapsed),
                Format.Ratio(best[Way.PerItem].Elapsed / best[way].Elapsed));
        }

        table.Print(postgres?.Description);
        var monitor = options.CompletionCheck is { } check
            ? $"checks every {check.TotalMilliseconds:0} ms (FanOutOptions.CompletionCheckInterval, set by --completion-check-ms)"
            : "keeps its default interval (FanOutOptions.CompletionCheckInterval, 1 s)";
        Console.WriteLine(
            $"Completion: polled every {Poll.TotalMilliseconds:0} ms, in the process until the last item is handled, then in the storage " +
            $"(IFanOutRuns.GetAsync for FanOut, the succeeded jobs' count for plain Hangfire). FanOut's completion monitor {monitor}: " +
            "a run reads completed up to that long after its last item, as in an application.");
        Console.WriteLine(
            $"end-to-end {options.Storage} items={items} plain={Seconds(plain)} per-item={Seconds(best[Way.PerItem].Elapsed)} " +
            $"batched={Seconds(best[Way.Batched].Elapsed)} speedup={Format.Plain(best[Way.PerItem].Elapsed / best[Way.Batched].Elapsed, 1)}");
    }

    private static async Task<EndToEndRun> MeasureAsync(BenchmarkPostgres? postgres, Way way, int items, BenchmarkOptions options, bool profile)
    {
        var connectionString = postgres is null ? null : await postgres.CreateDatabaseAsync("end_to_end");
        var storage = connectionString is null ? BenchHost.InMemory() : BenchHost.Postgres(connectionString);
        var handled = new HandledItems();
        var host = await BenchHost.StartAsync(
            storage,
            postgreSqlDispatch: postgres is not null,
            options.Workers,
            fanOut =>
            {
                if (options.CompletionCheck is { } check)
                {
                    fanOut.Services.Configure<FanOutOptions>(o => o.CompletionCheckInterval = check);
                }

                if (way == Way.Batched)
                {
                    fanOut.AddBatchHandler<CountedBatchHandler>(HandlerId, on: BenchHost.EventName, h => h.MaxBatchSize = options.BatchSize);
                }
                else
                {
                    fanOut.AddHandler<CountedHandler>(HandlerId, on: BenchHost.EventName);
                }
            },
            services => services.AddSingleton(handled));
        try
        {
            if (profile)
            {
                await postgres!.ResetStatementCountsAsync();
            }

            // Only against a hang: a busy machine ran the plain loop at 37 items a second, and 50 ms an item was not enough.
            var deadline = TimeSpan.FromMinutes(10) + TimeSpan.FromMilliseconds(100) * items;
            var clock = Stopwatch.StartNew();
            var completed = way == Way.Plain
                ? await RunPlainAsync(host, storage, handled, items, clock, deadline)
                : await RunFanOutAsync(host, postgres is not null, handled, items, clock, deadline);
            if (profile)
            {
                await postgres!.PrintTopStatementsAsync(connectionString!, 25, items, "item");
            }

            return completed;
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }

    private static async Task<EndToEndRun> RunPlainAsync(IHost host, JobStorage storage, HandledItems handled, int items, Stopwatch clock, TimeSpan deadline)
    {
        var client = host.Services.GetRequiredService<IBackgroundJobClient>();
        for (var i = 0; i < items; i++)
        {
            var item = Items.Id(i);
            client.Enqueue<CountedPlainJob>(job => job.Run(item));
        }

        var handledAt = await HandledAsync(handled, items, clock, deadline);
        var monitoring = storage.GetMonitoringApi();
        while (monitoring.SucceededListCount() < items)
        {
            if (monitoring.FailedCount() > 0)
            {
                throw new InvalidOperationException("A job failed: the measurement is void.");
            }

            await WaitAsync(clock, deadline, "the jobs' Succeeded states");
        }

        return new EndToEndRun(clock.Elapsed, handledAt, handled.Calls);
    }

    private static async Task<EndToEndRun> RunFanOutAsync(IHost host, bool fastPath, HandledItems handled, int items, Stopwatch clock, TimeSpan deadline)
    {
        var runId = await host.Services.GetRequiredService<IFanOutClient>().SendManyAsync(BenchHost.EventName, Items.Stream(items));
        if (fastPath)
        {
            BenchHost.ThrowIfFastPathNotTaken(host);
        }

        var handledAt = await HandledAsync(handled, items, clock, deadline);
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        while (true)
        {
            var run = await runs.GetAsync(runId) ?? throw new InvalidOperationException($"Run {runId} is not found.");
            if (run.Status == FanOutRunStatus.Completed)
            {
                return new EndToEndRun(clock.Elapsed, handledAt, handled.Calls);
            }

            if (run.Status is FanOutRunStatus.CompletedWithFailures or FanOutRunStatus.Cancelled or FanOutRunStatus.Interrupted)
            {
                throw new InvalidOperationException($"Run {runId} ended {run.Status}: the measurement is void.");
            }

            await WaitAsync(clock, deadline, $"run {runId} to complete ({run.Succeeded} of {items} items counted)");
        }
    }

    /// <summary>Waits, reading the process's own count, until every item was handled; returns when (to the poll).</summary>
    private static async Task<TimeSpan> HandledAsync(HandledItems handled, int items, Stopwatch clock, TimeSpan deadline)
    {
        while (handled.Items < items)
        {
            await WaitAsync(clock, deadline, $"the items to be handled ({handled.Items} of {items})");
        }

        return clock.Elapsed;
    }

    private static Task WaitAsync(Stopwatch clock, TimeSpan deadline, string what) =>
        clock.Elapsed > deadline
            ? throw new InvalidOperationException($"Still waiting for {what} after {Format.Seconds(clock.Elapsed)}: the measurement is void.")
            : Task.Delay(Poll);

    private static string Seconds(TimeSpan elapsed) => Format.Plain(elapsed.TotalSeconds, elapsed.TotalSeconds < 10 ? 2 : 1);

    private static string Label(Way way, int batchSize) => way switch
    {
        Way.Plain => "plain Enqueue loop",
        Way.PerItem => "FanOut item handler",
        _ => $"FanOut batch handler of {batchSize}",
    };

    private static string Row(Way way, int batchSize) => way switch
    {
        Way.Plain => "Plain Hangfire: `IBackgroundJobClient.Enqueue` loop, then the jobs run",
        Way.PerItem => "FanOut, item handler (`AddHandler`, one job per item)",
        _ => $"FanOut, batch handler (`AddBatchHandler`, `MaxBatchSize = {batchSize}`)",
    };

    /// <summary>One timed run: when the run read complete, when its last item was handled, and how many calls (jobs) it took.</summary>
    private sealed record EndToEndRun(TimeSpan Elapsed, TimeSpan Handled, long Calls);
}
