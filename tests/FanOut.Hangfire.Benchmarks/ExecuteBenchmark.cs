using System.Diagnostics;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// How fast jobs are executed: N FanOut child jobs against N plain Hangfire jobs doing the same nothing, with the same
/// number of workers on PostgreSQL. Each run first creates its jobs with no server running, then starts a Hangfire
/// server and times it until every job has succeeded. FanOut's run accounting (a state filter counting each run's
/// outcomes in the same transaction as the state change) and completion monitor are on, as in any application. The
/// child jobs run three ways: with job logs off, with them on (the default) and a handler that logs nothing, and with a
/// handler that logs three lines, which each job keeps.
/// </summary>
internal static class ExecuteBenchmark
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    private static readonly Variant[] Variants =
    [
        new("plain Hangfire jobs", "Plain Hangfire jobs", ChildJobs: false, fanOut => fanOut.AddHandler<NoopHandler>("noop", on: BenchHost.EventName)),
        new("FanOut, job logs off", "FanOut child jobs, job logs off (`MinimumLevel = None`)", ChildJobs: true, fanOut =>
        {
            fanOut.Services.Configure<FanOutOptions>(o => o.JobLogs.MinimumLevel = LogLevel.None);
            fanOut.AddHandler<NoopHandler>("noop", on: BenchHost.EventName);
        }),
        new("FanOut, job logs on", "FanOut child jobs, job logs on (the default), handler logs nothing", ChildJobs: true, fanOut => fanOut.AddHandler<NoopHandler>("noop", on: BenchHost.EventName)),
        new("FanOut, 3 lines kept", "FanOut child jobs, handler logs 3 lines, each job keeps them", ChildJobs: true, fanOut => fanOut.AddHandler<LoggingHandler>("noop", on: BenchHost.EventName)),
    ];

    public static async Task RunAsync(BenchmarkOptions options)
    {
        if (options.Storage != "postgres")
        {
            throw new ArgumentException("execute runs on PostgreSQL only: --storage postgres.");
        }

        var items = options.Items ?? 5_000;
        await using var postgres = await BenchmarkPostgres.StartAsync(options.Durable);
        var profile = options.Profile && await postgres.CountStatementsAsync();
        var best = Variants.Select(v => new Best(v.Label)).ToArray();
        for (var run = 1; run <= options.Repeat; run++)
        {
            Console.WriteLine($"run {run} of {options.Repeat}");

            // Rotate which goes first, so none always runs on a warmer (or busier) machine.
            for (var i = 0; i < Variants.Length; i++)
            {
                var index = (i + run - 1) % Variants.Length;
                best[index].Add(await MeasureAsync(postgres, Variants[index], items, options.Workers, profile));
            }
        }

        var plain = best[0].Value.PerSecond;
        var table = new ResultTable(
            $"execute · postgres · {Format.Count(items)} jobs · {options.Workers} workers · best of {options.Repeat}",
            "Executing no-op jobs", "jobs", "best time", "jobs/s", "time per job vs plain", "CPU per job (ms, least)", "CPU per job vs plain");
        var plainCpu = best[0].LeastCpuPerJob;
        for (var i = 0; i < Variants.Length; i++)
        {
            table.Add(
                Variants[i].Row,
                Format.Count(items),
                Format.Seconds(best[i].Value.Elapsed),
                Format.Rate(best[i].Value.PerSecond),
                i == 0 ? "—" : Overhead(plain, best[i]),
                best[i].LeastCpuPerJob is { } cpu ? Format.Plain(cpu, 3) : "n/a",
                i == 0 ? "—" : CpuOverhead(plainCpu, best[i].LeastCpuPerJob));
        }

        table.Print(postgres.Description);
        Console.WriteLine(
            $"execute postgres items={items} plain={Format.Plain(plain)} logs-off={Format.Plain(best[1].Value.PerSecond)} "
            + $"logs-on={Format.Plain(best[2].Value.PerSecond)} logging={Format.Plain(best[3].Value.PerSecond)} "
            + $"overhead-off={Overhead(plain, best[1])} overhead-on={Overhead(plain, best[2])} overhead-logging={Overhead(plain, best[3])} "
            + $"cpu-off={CpuOverhead(plainCpu, best[1].LeastCpuPerJob)} cpu-on={CpuOverhead(plainCpu, best[2].LeastCpuPerJob)} cpu-logging={CpuOverhead(plainCpu, best[3].LeastCpuPerJob)}");
    }

    // How much longer a FanOut job takes than a plain one: the plain rate over FanOut's.
    private static string Overhead(double plain, Best fanOut) => Percent(plain / fanOut.Value.PerSecond);

    // How much more CPU a FanOut job takes than a plain one.
    private static string CpuOverhead(double? plain, double? fanOut) => plain is { } p && fanOut is { } f ? Percent(f / p) : "n/a";

    private static string Percent(double ratio)
    {
        var overhead = (ratio - 1) * 100;
        return (overhead >= 0 ? "+" : string.Empty) + Format.Plain(overhead, 1) + "%";
    }

    private static async Task<Measurement> MeasureAsync(BenchmarkPostgres postgres, Variant variant, int items, int workers, bool profile)
    {
        var connectionString = await postgres.CreateDatabaseAsync("execute");
        await CreateJobsAsync(connectionString, variant.ChildJobs, items);
        if (profile)
        {
            await postgres.ResetStatementCountsAsync();
        }

        var storage = BenchHost.Postgres(connectionString);
        var monitoring = storage.GetMonitoringApi();
        var clock = Stopwatch.StartNew();
        var cpuBefore = Cpu(postgres);
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: true, workers, variant.Handlers, services: null);
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

            var elapsed = clock.Elapsed;
            var cpu = Cpu(postgres) - cpuBefore;
            if (profile)
            {
                Console.WriteLine($"  {variant.Label}, the statements executed most often while the jobs ran:");
                await postgres.PrintTopStatementsAsync(connectionString, 25, items);
            }

            return new Measurement(items, elapsed, cpu);
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }

    /// <summary>
    /// The CPU time so far of this process (the Hangfire server, its workers, FanOut's filters and monitors, the wait's own
    /// poll) and of PostgreSQL (every backend): what a job costs the machine, which a busy machine raises far less than
    /// the time. Null when PostgreSQL's is not known (a server of one's own).
    /// </summary>
    private static TimeSpan? Cpu(BenchmarkPostgres postgres) => postgres.Cpu() + Process.GetCurrentProcess().TotalProcessorTime;

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

    /// <summary>One way of running the jobs: its label in the runs and its row in the table, and the host's handlers.</summary>
    private sealed record Variant(string Label, string Row, bool ChildJobs, Action<IFanOutBuilder> Handlers);
}
