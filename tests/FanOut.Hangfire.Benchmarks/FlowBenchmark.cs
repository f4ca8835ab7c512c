using FanOut.Hangfire.Benchmarks.Infrastructure;
using FanOut.Hangfire.Testing;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// Concurrency limits at work: N items of one handler taking 50 ms a call, over K keys (one holding half), with at most
/// L calls per key and G in all, on more workers than G. Beside it, the same N items with no limit, as the baseline of
/// the storage's work per job. Concurrency is measured from the handler's own start and end records (<see cref="CallLog"/>),
/// never from the library's counters; bounces from Hangfire's state changes (<see cref="StateCounts"/>); the storage's
/// work from the statements PostgreSQL executed in the run's database (<c>pg_stat_statements</c>).
/// </summary>
internal static class FlowBenchmark
{
    private const string EventName = "bench/flow";

    private static readonly TimeSpan CallDuration = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public static async Task RunAsync(BenchmarkOptions options)
    {
        var onPostgres = options.Storage == "postgres";
        var shape = options.Flow;
        var workers = options.WorkerCount ?? 20;
        var items = new FlowItems(options.Items ?? 10_000, shape.Keys);
        await using var postgres = onPostgres ? await BenchmarkPostgres.StartAsync(options.Durable) : null;
        var countStatements = postgres is not null && await postgres.CountStatementsAsync();

        var limited = new List<FlowRun>();
        var unlimited = new List<FlowRun>();
        for (var run = 1; run <= options.Repeat; run++)
        {
            Console.WriteLine($"run {run} of {options.Repeat}");
            unlimited.Add(Print("no limit", await MeasureAsync(postgres, countStatements, options.Profile, items, workers, limits: null)));
            limited.Add(Print($"per key {shape.PerKey}, global {shape.Global}", await MeasureAsync(postgres, countStatements, options.Profile, items, workers, shape)));
        }

        var idealLimited = CallDuration * items.IdealRounds(shape.PerKey, shape.Global);
        var idealUnlimited = CallDuration * items.IdealRounds(int.MaxValue, workers);
        var simpleLimited = CallDuration * items.SimpleRounds(shape.PerKey, shape.Global);
        var best = limited.MinBy(r => r.Elapsed)!;
        var baseline = unlimited.MinBy(r => r.Elapsed)!;
        var maxPerKey = limited.Max(r => r.PeakPerKey);
        var maxGlobal = limited.Max(r => r.PeakGlobal);
        var bounces = limited.Concat(unlimited).Max(r => r.Bounces);
        var tripsRatio = countStatements ? best.TripsPerJob / baseline.TripsPerJob : (double?)null;
        var efficiency = idealLimited / best.Elapsed;

        var table = new ResultTable(
            $"flow · {options.Storage} · {Format.Count(items.Total)} items of 50 ms · {shape.Keys} keys · {workers} workers · best of {options.Repeat}",
            "Run", "best time", "ideal time", "efficiency", "max per key", "max overall", "bounces", "statements per job", "round trips per job", "small keys done", "big key done");
        Row(table, $"No limit ({workers} workers)", baseline, idealUnlimited, unlimited, countStatements);
        Row(table, $"Per key {shape.PerKey}, global {shape.Global} (big key {Format.Count(items.Counts[0])} items)", best, idealLimited, limited, countStatements);
        table.Print(postgres?.Description);
        Console.WriteLine(
            $"Ideal time: the limits' least number of rounds of 50 ms, max over m = 1..K of ceil(items of the m biggest keys ÷ min(global, per-key × m)): " +
            $"{Format.Seconds(idealLimited)} here, set by the big key ({Format.Count(items.Counts[0])} items at {shape.PerKey} at once); " +
            $"the throughput bound N × 50 ms ÷ min(G, Σ min(L, items of the key)) alone is {Format.Seconds(simpleLimited)} " +
            $"(efficiency against it {Format.Plain(simpleLimited / best.Elapsed, 2)}).");
        Console.WriteLine(countStatements
            ? $"Statements: every statement PostgreSQL executed in the run's database (pg_stat_statements calls), from the send to the last call, over the items. Round trips: the same without Npgsql's DISCARD ALL and BEGIN, which travel with the statement after them. Trips ratio = limited ÷ unlimited round trips per job = {Format.Plain(best.TripsPerJob, 1)} ÷ {Format.Plain(baseline.TripsPerJob, 1)}."
            : "Statements: n/a (not PostgreSQL, or pg_stat_statements unavailable).");
        Console.WriteLine(
            $"flow {options.Storage} items={items.Total} keys={shape.Keys} per-key={shape.PerKey} global={shape.Global} " +
            $"max-per-key={maxPerKey} max-global={maxGlobal} bounces={bounces} " +
            $"trips-ratio={(tripsRatio is { } r ? Format.Plain(r, 2) : "n/a")} efficiency={Format.Plain(efficiency, 2)}");
    }

    private static async Task<FlowRun> MeasureAsync(BenchmarkPostgres? postgres, bool countStatements, bool profile, FlowItems items, int workers, FlowShape? limits)
    {
        var connectionString = postgres is null ? null : await postgres.CreateDatabaseAsync("flow");
        var storage = connectionString is null ? BenchHost.InMemory() : BenchHost.Postgres(connectionString);
        var log = new CallLog { Duration = CallDuration };
        var states = new StateCounts();
        GlobalJobFilters.Filters.Add(states);
        var host = await BenchHost.StartAsync(
            storage,
            postgreSqlDispatch: postgres is not null,
            workers,
            fanOut => fanOut.AddHandler<LoggedHandler>("flow", on: EventName, h =>
            {
                if (limits is not null)
                {
                    h.ConcurrencyLimit = limits.Global;
                    h.ConcurrencyLimitPerKey = limits.PerKey;
                    h.UseConcurrencyKey<string>(CallLog.KeyOf);
                }
            }),
            services => services.AddSingleton(log));
        try
        {
            if (countStatements)
            {
                await postgres!.ResetStatementCountsAsync();
            }

            var started = DateTimeOffset.UtcNow;
            var deadline = started + TimeSpan.FromMinutes(10) + CallDuration * items.Total;
            await host.Services.GetRequiredService<IFanOutClient>().SendManyAsync(EventName, items.Stream());
            // The wait reads the handler's records only: a poll of the storage would be counted among the run's statements.
            while (log.Count < items.Total)
            {
                if (DateTimeOffset.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"{log.Count} of {items.Total} calls made by the deadline: the measurement is void.");
                }

                await Task.Delay(Poll);
            }

            var statements = countStatements ? await postgres!.StatementsInAsync(connectionString!) : default;
            if (log.Calls.Any(c => c.Failed) || storage.GetMonitoringApi().FailedCount() > 0)
            {
                throw new InvalidOperationException("A call failed: the measurement is void.");
            }
            if (countStatements && profile)
            {
                await postgres!.PrintTopStatementsAsync(connectionString!, 25, items.Total);
            }

            var calls = log.Calls.ToList();
            var smallKeysDone = calls.Where(c => c.Key != FlowItems.BigKey).Max(c => c.Ended);
            return new FlowRun(
                calls.Max(c => c.Ended) - started,
                CallLog.PeakOf(calls),
                calls.GroupBy(c => c.Key).Max(CallLog.PeakOf),
                Math.Max(states.Enqueued, states.Processing) - calls.Count,
                states.Enqueued,
                states.Processing,
                calls.Count,
                (double)statements.Statements / items.Total,
                (double)statements.RoundTrips / items.Total,
                smallKeysDone - started,
                calls.Where(c => c.Key == FlowItems.BigKey).Max(c => c.Ended) - started,
                Handovers.Of(calls, FlowItems.BigKey, smallKeysDone));
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
            GlobalJobFilters.Filters.Remove(states);
        }
    }

    private static FlowRun Print(string label, FlowRun run)
    {
        Console.WriteLine(
            $"  {label}: {Format.Seconds(run.Elapsed)}, max {run.PeakPerKey} per key and {run.PeakGlobal} overall, " +
            $"{Format.Count(run.Enqueued)} enqueued and {Format.Count(run.Processing)} fetched for {Format.Count(run.Calls)} calls " +
            $"(bounces {run.Bounces}), {Format.Plain(run.StatementsPerJob, 1)} statements and {Format.Plain(run.TripsPerJob, 1)} round trips per job, small keys done at {Format.Seconds(run.SmallKeysDone)}, big key at {Format.Seconds(run.BigKeyDone)}" +
            (run.Handovers.Count > 0 ? $", big key alone: {Format.Count(run.Handovers.Count)} handovers of a slot, median {Format.Plain(run.Handovers.Median.TotalMilliseconds)} ms, p90 {Format.Plain(run.Handovers.P90.TotalMilliseconds)} ms (end of a call to the next call's start)" : string.Empty));
        return run;
    }

    private static void Row(ResultTable table, string label, FlowRun best, TimeSpan ideal, List<FlowRun> runs, bool countStatements) =>
        table.Add(
            label,
            Format.Seconds(best.Elapsed),
            Format.Seconds(ideal),
            Format.Plain(ideal / best.Elapsed, 2),
            runs.Max(r => r.PeakPerKey).ToString(System.Globalization.CultureInfo.InvariantCulture),
            runs.Max(r => r.PeakGlobal).ToString(System.Globalization.CultureInfo.InvariantCulture),
            runs.Max(r => r.Bounces).ToString(System.Globalization.CultureInfo.InvariantCulture),
            countStatements ? Format.Plain(best.StatementsPerJob, 1) : "n/a",
            countStatements ? Format.Plain(best.TripsPerJob, 1) : "n/a",
            Format.Seconds(best.SmallKeysDone),
            Format.Seconds(best.BigKeyDone));

    private sealed record FlowRun(
        TimeSpan Elapsed,
        int PeakGlobal,
        int PeakPerKey,
        long Bounces,
        long Enqueued,
        long Processing,
        int Calls,
        double StatementsPerJob,
        double TripsPerJob,
        TimeSpan SmallKeysDone,
        TimeSpan BigKeyDone,
        Handovers Handovers);
}
