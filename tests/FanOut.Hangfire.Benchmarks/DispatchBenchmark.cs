using System.Diagnostics;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// How fast child jobs are created: a FanOut send of N items (one handler, so one job an item) against the loop a user
/// would write with plain Hangfire, <c>IBackgroundJobClient.Enqueue</c> per item. On PostgreSQL the fast path is
/// measured on all N items, and the loop and the generic path on a sample; in memory everything on all N.
/// Every run gets a fresh database (or in-memory storage) and host.
/// </summary>
internal static class DispatchBenchmark
{
    private const int WarmUpItems = 20_000;

    private enum Path
    {
        PlainLoop,
        Generic,
        FastPath,
    }

    public static async Task RunAsync(BenchmarkOptions options)
    {
        var items = options.Items ?? 100_000;
        var onPostgres = options.Storage == "postgres";

        // The loop takes minutes for 100,000 jobs on PostgreSQL; its rate is what counts, and a sample shows it.
        var sample = onPostgres ? Math.Min(items, options.BaselineItems) : items;
        await using var postgres = onPostgres ? await BenchmarkPostgres.StartAsync(options.Durable, workersFetch: false) : null;
        var profile = options.Profile && postgres is not null && await postgres.CountStatementsAsync();

        // One untimed pass of each path first: .NET compiles hot code in tiers, and a process's first thousands of jobs
        // run on code not yet optimized (measured: the first fast-path run of a process was half as fast as the next).
        // Every path gets the same warm-up, so the comparison stays even.
        Console.WriteLine("warm-up, not timed");
        await MeasureAsync(postgres, Path.PlainLoop, Math.Min(sample, WarmUpItems / 10));
        await MeasureAsync(postgres, Path.Generic, Math.Min(sample, WarmUpItems / 10));
        if (onPostgres)
        {
            await MeasureAsync(postgres, Path.FastPath, Math.Min(items, WarmUpItems));
        }

        var plain = new Best("plain Enqueue loop");
        var generic = new Best("FanOut generic path");
        var fast = new Best("FanOut PostgreSQL fast path");
        for (var run = 1; run <= options.Repeat; run++)
        {
            Console.WriteLine($"run {run} of {options.Repeat}");
            plain.Add(await MeasureAsync(postgres, Path.PlainLoop, sample));
            generic.Add(await MeasureAsync(postgres, Path.Generic, onPostgres ? sample : items));
            if (onPostgres)
            {
                fast.Add(await MeasureAsync(postgres, Path.FastPath, items, profile));
            }
        }

        var baseline = plain.Value.PerSecond;
        var table = new ResultTable(
            $"dispatch · {options.Storage} · {Format.Count(items)} items · best of {options.Repeat}",
            "Creating one no-op job per item", "items timed", "best time", "jobs/s", "vs plain loop", "least CPU per job");
        Row(table, "Plain Hangfire: `IBackgroundJobClient.Enqueue` in a loop", plain, baseline, sample < items);
        Row(table, "FanOut, generic path (any storage)", generic, baseline, onPostgres && sample < items);
        if (onPostgres)
        {
            Row(table, "FanOut, PostgreSQL fast path (`UsePostgreSqlDispatch`)", fast, baseline, sample: false);
        }

        table.Print(postgres?.Description);
        var ours = onPostgres ? fast.Value.PerSecond : generic.Value.PerSecond;
        Console.WriteLine(
            $"dispatch {options.Storage} items={items} fanout={Format.Plain(ours)} baseline={Format.Plain(baseline)} ratio={Format.Plain(ours / baseline, 1)}");
    }

    // Where a job's time goes: this process's CPU (every thread: Hangfire's state machine, serializing, Npgsql) and its
    // allocations, and the database's execution time of each statement, per job.
    private static async Task PrintProfileAsync(BenchmarkPostgres postgres, string connectionString, int items, TimeSpan cpu, long allocated)
    {
        var statements = await postgres.TopStatementsInAsync(connectionString, 25);
        Console.WriteLine(
            $"    process CPU {Format.Plain(cpu.TotalMicroseconds / items, 1)} µs per job, {Format.Plain((double)allocated / items / 1024, 2)} KB allocated per job; " +
            $"database {Format.Plain(statements.Sum(s => s.Milliseconds) * 1000 / items, 1)} µs per job executing statements");
        foreach (var (calls, ms, query) in statements.OrderByDescending(s => s.Milliseconds).Take(16))
        {
            Console.WriteLine($"    {Format.Plain(ms * 1000 / items, 2),7} µs per job {Format.Plain((double)calls / items, 4),8} per job  {query[..Math.Min(query.Length, 110)]}");
        }
    }

    // This process's CPU (every thread) and, on a throwaway cluster, PostgreSQL's: what a job costs the machine.
    private static TimeSpan? Cpu(BenchmarkPostgres? postgres) =>
        postgres is null ? Process.GetCurrentProcess().TotalProcessorTime : postgres.Cpu() + Process.GetCurrentProcess().TotalProcessorTime;

    private static void Row(ResultTable table, string label, Best best, double baseline, bool sample) =>
        table.Add(
            label,
            Format.Count(best.Value.Jobs) + (sample ? " (sample)" : string.Empty),
            Format.Seconds(best.Value.Elapsed),
            Format.Rate(best.Value.PerSecond),
            Format.Ratio(best.Value.PerSecond / baseline),
            best.LeastCpuPerJob is { } cpu ? $"{Format.Plain(cpu * 1000, 1)} µs" : "n/a");

    private static async Task<Measurement> MeasureAsync(BenchmarkPostgres? postgres, Path path, int items, bool profile = false)
    {
        var connectionString = postgres is null ? null : await postgres.CreateDatabaseAsync("dispatch");
        var storage = connectionString is null ? BenchHost.InMemory() : BenchHost.Postgres(connectionString);
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: path == Path.FastPath);
        try
        {
            if (profile)
            {
                await postgres!.ResetStatementCountsAsync();
            }

            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var cpuWithDatabase = Cpu(postgres);
            var allocated = GC.GetTotalAllocatedBytes();
            var clock = Stopwatch.StartNew();
            if (path == Path.PlainLoop)
            {
                var client = host.Services.GetRequiredService<IBackgroundJobClient>();
                for (var i = 0; i < items; i++)
                {
                    var item = Items.Id(i);
                    client.Enqueue<PlainJob>(job => job.Run(item));
                }
            }
            else
            {
                await host.Services.GetRequiredService<IFanOutClient>().SendManyAsync(BenchHost.EventName, Items.Stream(items));
            }

            var elapsed = clock.Elapsed;
            var cpuTaken = Cpu(postgres) - cpuWithDatabase;
            var processCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            if (profile)
            {
                await PrintProfileAsync(postgres!, connectionString!, items, Process.GetCurrentProcess().TotalProcessorTime - cpu, GC.GetTotalAllocatedBytes() - allocated);
            }

            if (path == Path.FastPath)
            {
                BenchHost.ThrowIfFastPathNotTaken(host);
                if (cpuTaken is { } total)
                {
                    Console.WriteLine(
                        $"    CPU per job: this process {Format.Plain(processCpu.TotalMicroseconds / items, 1)} µs, PostgreSQL {Format.Plain((total - processCpu).TotalMicroseconds / items, 1)} µs");
                }
            }

            return new Measurement(items, elapsed, cpuTaken);
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }
}
