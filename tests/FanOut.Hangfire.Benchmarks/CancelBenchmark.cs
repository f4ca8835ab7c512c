using System.Diagnostics;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// How fast a cancelled run's waiting jobs are deleted. N items of one run wait behind a concurrency limit of 1 whose one
/// call is held (<see cref="CancelGate"/>); the clock runs from <see cref="IFanOutRuns.CancelAsync"/> until the run has no
/// waiting job left, read from storage (the run's waiting sets, as <see cref="IFanOutRuns.GetAsync"/> counts them). The
/// baseline, in the same invocation: deleting as many plain Hangfire jobs, scheduled a day ahead, with
/// <see cref="IBackgroundJobClient.Delete(string)"/> in a loop. On PostgreSQL the run is measured on the generic path and
/// on the fast path (<c>UsePostgreSqlDispatch</c>).
/// </summary>
internal static class CancelBenchmark
{
    private const string EventName = "bench/cancel";
    private const string HandlerId = "held";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync(BenchmarkOptions options)
    {
        var onPostgres = options.Storage == "postgres";
        var items = options.Items ?? 10_000;
        await using var postgres = onPostgres ? await BenchmarkPostgres.StartAsync(options.Durable) : null;
        var profile = options.Profile && postgres is not null && await postgres.CountStatementsAsync();
        var baseline = new Best("IBackgroundJobClient.Delete loop");
        var generic = new Best(onPostgres ? "FanOut cancel, generic path" : "FanOut cancel");
        var fast = onPostgres ? new Best("FanOut cancel, fast path") : null;
        for (var run = 1; run <= options.Repeat; run++)
        {
            Console.WriteLine($"run {run} of {options.Repeat}");
            baseline.Add(await MeasureBaselineAsync(postgres, items, profile));
            generic.Add(await MeasureCancelAsync(postgres, items, fastPath: false, profile));
            fast?.Add(await MeasureCancelAsync(postgres, items, fastPath: true, profile));
        }

        var plain = baseline.Value.PerSecond;
        var table = new ResultTable(
            $"cancel · {options.Storage} · {Format.Count(items)} waiting jobs · best of {options.Repeat}",
            "Deleting jobs that have not started", "jobs", "best time", "jobs/s", "vs baseline");
        foreach (var best in new[] { baseline, generic, fast }.OfType<Best>())
        {
            table.Add(best.Label, Format.Count(best.Value.Jobs), Format.Seconds(best.Value.Elapsed), Format.Rate(best.Value.PerSecond), Format.Ratio(best.Value.PerSecond / plain));
        }

        table.Print(postgres?.Description);
        Console.WriteLine(
            "FanOut cancel: from CancelAsync until the run's waiting sets are empty (the watch deletes waiting jobs in the background). " +
            "Baseline: IBackgroundJobClient.Delete of as many plain jobs scheduled a day ahead, one after another.");
        var fanOut = (fast ?? generic).Value.PerSecond;
        Console.WriteLine(
            $"cancel {options.Storage} items={items} fanout={Format.Plain(fanOut)} baseline={Format.Plain(plain)} ratio={Format.Plain(fanOut / plain, 2)}" +
            (fast is null ? string.Empty : $" generic={Format.Plain(generic.Value.PerSecond)}"));
    }

    private static async Task<Measurement> MeasureBaselineAsync(BenchmarkPostgres? postgres, int items, bool profile)
    {
        var connectionString = postgres is null ? null : await postgres.CreateDatabaseAsync("cancel_plain");
        var storage = connectionString is null ? BenchHost.InMemory() : BenchHost.Postgres(connectionString);
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: false);
        try
        {
            var client = host.Services.GetRequiredService<IBackgroundJobClient>();
            var ids = new List<string>(items);
            for (var i = 0; i < items; i++)
            {
                ids.Add(client.Schedule<PlainJob>(j => j.Run("item"), TimeSpan.FromDays(1)));
            }

            await ResetAsync(postgres, profile);
            var clock = Stopwatch.StartNew();
            var deleted = ids.Count(client.Delete);
            var elapsed = clock.Elapsed;
            if (deleted != items)
            {
                throw new InvalidOperationException($"{deleted} of {items} plain jobs deleted: the measurement is void.");
            }

            await PrintTopAsync(postgres, connectionString, profile, items);
            return new Measurement(items, elapsed);
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }

    private static async Task<Measurement> MeasureCancelAsync(BenchmarkPostgres? postgres, int items, bool fastPath, bool profile)
    {
        var connectionString = postgres is null ? null : await postgres.CreateDatabaseAsync(fastPath ? "cancel_fast" : "cancel_generic");
        var storage = connectionString is null ? BenchHost.InMemory() : BenchHost.Postgres(connectionString);
        var gate = new CancelGate();
        var host = await BenchHost.StartAsync(
            storage,
            postgreSqlDispatch: fastPath,
            workers: 2,
            fanOut => fanOut.AddHandler<CancelGateHandler>(HandlerId, on: EventName, h => h.ConcurrencyLimit = 1),
            services => services.AddSingleton(gate));
        try
        {
            var runs = host.Services.GetRequiredService<IFanOutRuns>();
            var runId = await host.Services.GetRequiredService<IFanOutClient>().SendManyAsync(EventName, Items(items));
            var waiting = items - 1;
            await UntilAsync(
                async () => gate.Started == 1 && await WaitingAsync(runs, runId) == waiting,
                TimeSpan.FromMinutes(30),
                "the run's jobs waiting for the slot");
            if (fastPath)
            {
                BenchHost.ThrowIfFastPathNotTaken(host);
            }

            await ResetAsync(postgres, profile);
            var clock = Stopwatch.StartNew();
            await runs.CancelAsync(runId);
            await UntilAsync(async () => await WaitingAsync(runs, runId) == 0, TimeSpan.FromHours(1), "no waiting job of the run left");
            var elapsed = clock.Elapsed;
            var run = await runs.GetAsync(runId) ?? throw new InvalidOperationException($"Run {runId} is gone.");
            if (run.Deleted < waiting)
            {
                throw new InvalidOperationException($"Run {runId}: {run.Deleted} jobs deleted, {waiting} were waiting: the measurement is void.");
            }

            await PrintTopAsync(postgres, connectionString, profile, waiting);
            return new Measurement(waiting, elapsed);
        }
        finally
        {
            gate.Open();
            await StopAsync(host, storage);
        }
    }

    private static async Task<long> WaitingAsync(IFanOutRuns runs, string runId) =>
        (await runs.GetAsync(runId))?.Handlers.Sum(h => h.Waiting) ?? -1;

    private static async Task UntilAsync(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!await done())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout} for {what}: the measurement is void.");
            }

            await Task.Delay(Poll);
        }
    }

    private static async Task ResetAsync(BenchmarkPostgres? postgres, bool profile)
    {
        if (profile)
        {
            await postgres!.ResetStatementCountsAsync();
        }
    }

    private static async Task PrintTopAsync(BenchmarkPostgres? postgres, string? connectionString, bool profile, int jobs)
    {
        if (profile)
        {
            await postgres!.PrintTopStatementsAsync(connectionString!, 20, jobs);
        }
    }

    private static Task StopAsync(IHost host, JobStorage storage) => BenchHost.StopAsync(host, storage);

#pragma warning disable CS1998 // Made up on the fly; it only has to be a stream.
    private static async IAsyncEnumerable<string> Items(int count)
#pragma warning restore CS1998
    {
        for (var i = 0; i < count; i++)
        {
            yield return "item-" + i.ToString("D7", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
