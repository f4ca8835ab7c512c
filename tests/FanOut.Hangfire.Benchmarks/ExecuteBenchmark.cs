using System.Diagnostics;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// How fast jobs are executed: N FanOut child jobs against N plain Hangfire jobs doing the same nothing, with the same
/// number of workers on PostgreSQL. Each run first creates its jobs with no server running, then starts a Hangfire
/// server and times it until every job has succeeded. FanOut's run accounting (a state filter counting each run's
/// outcomes in the same transaction as the state change) and completion monitor are on, as in any application.
/// </summary>
internal static class ExecuteBenchmark
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public static async Task RunAsync(BenchmarkOptions options)
    {
        if (options.Storage != "postgres")
        {
            throw new ArgumentException("execute runs on PostgreSQL only: --storage postgres.");
        }

        var items = options.Items ?? 5_000;
        await using var postgres = await BenchmarkPostgres.StartAsync(options.Durable);
        var plain = new Best("plain Hangfire jobs");
        var fanOut = new Best("FanOut child jobs");
        for (var run = 1; run <= options.Repeat; run++)
        {
            Console.WriteLine($"run {run} of {options.Repeat}");

            // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
            foreach (var childJobs in run % 2 == 1 ? new[] { false, true } : [true, false])
            {
                (childJobs ? fanOut : plain).Add(await MeasureAsync(postgres, childJobs, items, options.Workers));
            }
        }

        var overhead = (plain.Value.PerSecond / fanOut.Value.PerSecond - 1) * 100;
        var table = new ResultTable(
            $"execute · postgres · {Format.Count(items)} jobs · {options.Workers} workers · best of {options.Repeat}",
            "Executing no-op jobs", "jobs", "best time", "jobs/s", "time per job vs plain");
        table.Add("Plain Hangfire jobs", Format.Count(items), Format.Seconds(plain.Value.Elapsed), Format.Rate(plain.Value.PerSecond), "—");
        table.Add(
            "FanOut child jobs (run accounting on)",
            Format.Count(items),
            Format.Seconds(fanOut.Value.Elapsed),
            Format.Rate(fanOut.Value.PerSecond),
            (overhead >= 0 ? "+" : string.Empty) + Format.Plain(overhead, 1) + "%");
        table.Print(postgres.Description);
        Console.WriteLine(
            $"execute postgres items={items} fanout={Format.Plain(fanOut.Value.PerSecond)} plain={Format.Plain(plain.Value.PerSecond)} overhead={Format.Plain(overhead, 1)}%");
    }

    private static async Task<Measurement> MeasureAsync(BenchmarkPostgres postgres, bool childJobs, int items, int workers)
    {
        var connectionString = await postgres.CreateDatabaseAsync("execute");
        await CreateJobsAsync(connectionString, childJobs, items);

        var storage = BenchHost.Postgres(connectionString);
        var monitoring = storage.GetMonitoringApi();
        var clock = Stopwatch.StartNew();
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: true, workers);
        try
        {
            while (monitoring.SucceededListCount() < items)
            {
                if (monitoring.FailedCount() > 0)
                {
                    throw new InvalidOperationException("A job failed; the measurement is void.");
                }

                await Task.Delay(Poll);
            }

            return new Measurement(items, clock.Elapsed);
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }

    /// <summary>Creates the jobs with no server running, the plain ones a few at a time in parallel to save time.</summary>
    private static async Task CreateJobsAsync(string connectionString, bool childJobs, int items)
    {
        var storage = BenchHost.Postgres(connectionString);
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: true);
        try
        {
            if (childJobs)
            {
                await host.Services.GetRequiredService<IFanOutClient>().SendManyAsync(BenchHost.EventName, Items.Stream(items));
                return;
            }

            var client = host.Services.GetRequiredService<IBackgroundJobClient>();
            await Parallel.ForAsync(0, items, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (i, _) =>
            {
                var item = Items.Id(i);
                client.Enqueue<PlainJob>(job => job.Run(item));
                return ValueTask.CompletedTask;
            });
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }
}
