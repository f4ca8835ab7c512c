using System.Diagnostics;
using System.Globalization;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// A run's time as Hangfire server processes are added: 1 to S processes of W workers each share one PostgreSQL, and a
/// process with no server (an application's web front) sends the items through the fast path and waits for the run to
/// read completed. Per-item and batched, each on a fresh database, after an untimed warm-up run in the same processes.
/// Beside the time it reports what the model in <c>docs/scaling.md</c> is fitted to: the CPU time per 1,000 items of the
/// server processes, of the sending process and of PostgreSQL (from <c>/proc</c>), and the write-ahead log's flushes.
/// </summary>
internal static class ScalingBenchmark
{
    private const string ServerCommand = "scaling-server";
    private const string HandlerId = "bench";
    private const int WarmUpItems = 1_000;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(100);

    public static async Task RunAsync(BenchmarkOptions options)
    {
        if (options.Storage != "postgres")
        {
            throw new ArgumentException("scaling measures server processes sharing one PostgreSQL: --storage postgres.");
        }

        var perItemItems = options.Items ?? 10_000;
        var batchedItems = options.BatchedItems ?? perItemItems * 10;
        await using var postgres = await BenchmarkPostgres.StartAsync(options.Durable);
        var profile = options.Profile && await postgres.CountStatementsAsync();
        var measured = new List<ScalingRun>();
        foreach (var batched in new[] { false, true })
        {
            for (var servers = 1; servers <= options.Servers; servers++)
            {
                var items = batched ? batchedItems : perItemItems;
                var best = (ScalingRun?)null;
                for (var run = 1; run <= options.Repeat; run++)
                {
                    var one = await MeasureAsync(postgres, batched, servers, items, options, profile);
                    Console.WriteLine(
                        $"  {Label(batched, options.BatchSize)}, {servers} server process(es) of {options.Workers} workers: {Format.Seconds(one.Elapsed)}, " +
                        $"{Format.Rate(items / one.Elapsed.TotalSeconds)} items/s, CPU per 1,000 items: servers {Cpu(one.ServersCpu, items)}, " +
                        $"sender {Cpu(one.SenderCpu, items)}, PostgreSQL {Cpu(one.PostgresCpu, items)}; {PerThousand(one.WalFlushes, items)} WAL flushes per 1,000 items");
                    best = best is null || one.Elapsed < best.Elapsed ? one : best;
                }

                measured.Add(best!);
            }
        }

        var table = new ResultTable(
            $"scaling · postgres · server processes of {options.Workers} workers sharing one database · best of {options.Repeat}",
            "Handler", "server processes", "items", "time", "items/s", "vs 1 process", "CPU s per 1,000 items: servers", "sender", "PostgreSQL", "all",
            "WAL flushes per 1,000 items", "WAL MB per 1,000 items");
        foreach (var run in measured)
        {
            var first = measured.First(r => r.Batched == run.Batched);
            table.Add(
                Label(run.Batched, options.BatchSize),
                run.Servers.ToString(CultureInfo.InvariantCulture),
                Format.Count(run.Items),
                Format.Seconds(run.Elapsed),
                Format.Rate(run.Items / run.Elapsed.TotalSeconds),
                Format.Ratio(first.Elapsed / run.Elapsed),
                Cpu(run.ServersCpu, run.Items),
                Cpu(run.SenderCpu, run.Items),
                Cpu(run.PostgresCpu, run.Items),
                run.PostgresCpu is { } database ? Cpu(run.ServersCpu + run.SenderCpu + database, run.Items) : "n/a",
                PerThousand(run.WalFlushes, run.Items),
                Format.Plain(run.WalBytes / 1024d / 1024d * 1_000 / run.Items, 2));
        }

        table.Print(postgres.Description);
        Console.WriteLine(
            "Each process runs on the same machine: adding processes adds workers and connections, not cores. CPU is user + system " +
            "time from /proc, PostgreSQL's over its postmaster and every backend.");
        Console.WriteLine(
            $"scaling postgres per-item-items={perItemItems} batched-items={batchedItems} workers={options.Workers} " +
            $"per-item={Times(measured, batched: false)} batched={Times(measured, batched: true)}");
    }

    /// <summary>A server process: a Hangfire server of W workers with the scenario's handler, until its standard input closes.</summary>
    public static async Task RunServerAsync(BenchmarkOptions options)
    {
        var handled = new HandledItems();
        var storage = Storage(options.ConnectionString ?? throw new ArgumentException("--connection is required."));
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: true, options.Workers, Declare(options.Handler == "batch", options.BatchSize), s => s.AddSingleton(handled));
        try
        {
            Console.WriteLine("ready");
            using var stop = new CancellationTokenSource();
            var input = Task.Run(async () =>
            {
                while (await Console.In.ReadLineAsync() is not null)
                {
                }

                await stop.CancelAsync();
            });
            var reported = -1L;
            while (!stop.IsCancellationRequested)
            {
                if (handled.Items != reported)
                {
                    reported = handled.Items;
                    Console.WriteLine($"handled {reported.ToString(CultureInfo.InvariantCulture)}");
                }

                await Task.Delay(ReportInterval, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            await input;
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }

    private static async Task<ScalingRun> MeasureAsync(BenchmarkPostgres postgres, bool batched, int servers, int items, BenchmarkOptions options, bool profile)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync("scaling")) { KeepAlive = 1 }.ConnectionString;
        var storage = Storage(connectionString);

        // The sender starts first: it prepares Hangfire's schema, which the server processes then find.
        var sender = await BenchHost.StartAsync(storage, postgreSqlDispatch: true, workers: 0, Declare(batched, options.BatchSize), s => s.AddSingleton(new HandledItems()));
        var processes = new List<ServerProcess>();
        try
        {
            for (var i = 0; i < servers; i++)
            {
                processes.Add(ServerProcess.Start(connectionString, batched, options));
            }

            await Task.WhenAll(processes.Select(p => p.Ready));
            await RunAsync(sender, processes, WarmUpItems, items: WarmUpItems);

            var serversBefore = processes.Sum(p => p.Cpu().TotalSeconds);
            var senderBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var postgresBefore = postgres.Cpu();
            var walBefore = await postgres.WalAsync();
            if (profile)
            {
                await postgres.ResetStatementCountsAsync();
            }

            var elapsed = await RunAsync(sender, processes, WarmUpItems + items, items);
            var wal = await postgres.WalAsync();
            if (profile)
            {
                Console.WriteLine($"  {Label(batched, options.BatchSize)}, {servers} server process(es): the statements executed most often, per item");
                await postgres.PrintTopStatementsAsync(connectionString, 25, items, "item");
            }

            return new ScalingRun(
                batched,
                servers,
                items,
                elapsed,
                processes.Sum(p => p.Cpu().TotalSeconds) - serversBefore,
                (Process.GetCurrentProcess().TotalProcessorTime - senderBefore).TotalSeconds,
                postgres.Cpu() is { } after && postgresBefore is { } before ? (after - before).TotalSeconds : null,
                wal.Flushes - walBefore.Flushes,
                wal.Bytes - walBefore.Bytes);
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            await BenchHost.StopAsync(sender, storage);
        }
    }

    /// <summary>Sends <paramref name="items"/> items and waits until the servers handled <paramref name="handledInAll"/> and the run reads completed.</summary>
    private static async Task<TimeSpan> RunAsync(IHost sender, List<ServerProcess> processes, long handledInAll, int items)
    {
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromMinutes(10) + TimeSpan.FromMilliseconds(100) * items;
        var runId = await sender.Services.GetRequiredService<IFanOutClient>().SendManyAsync(BenchHost.EventName, Items.Stream(items));
        BenchHost.ThrowIfFastPathNotTaken(sender);
        while (processes.Sum(p => p.Handled) < handledInAll)
        {
            await WaitAsync(clock, deadline, $"the items to be handled ({processes.Sum(p => p.Handled)} of {handledInAll}, warm-up included)");
        }

        var runs = sender.Services.GetRequiredService<IFanOutRuns>();
        while (true)
        {
            var run = await runs.GetAsync(runId) ?? throw new InvalidOperationException($"Run {runId} is not found.");
            if (run.Status == FanOutRunStatus.Completed)
            {
                return clock.Elapsed;
            }

            if (run.Status is FanOutRunStatus.CompletedWithFailures or FanOutRunStatus.Cancelled or FanOutRunStatus.Interrupted)
            {
                throw new InvalidOperationException($"Run {runId} ended {run.Status}: the measurement is void.");
            }

            await WaitAsync(clock, deadline, $"run {runId} to complete ({run.Succeeded} of {items} items counted)");
        }
    }

    /// <summary>
    /// The README's recommended storage options, with long polling: the items are sent from a process with no server, and
    /// without it the servers would find the first jobs only at their next poll (<c>QueuePollInterval</c>, 15 s). The
    /// connection string carries <c>Keepalive=1</c>, as the README says long polling needs.
    /// </summary>
    private static JobStorage Storage(string connectionString) => BenchHost.Postgres(connectionString, new PostgreSqlStorageOptions
    {
        PrepareSchemaIfNecessary = true,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromMinutes(5),
        EnableLongPolling = true,
    });

    private static Action<IFanOutBuilder> Declare(bool batched, int batchSize) => fanOut =>
    {
        if (batched)
        {
            fanOut.AddBatchHandler<NoopBatchHandler>(HandlerId, on: BenchHost.EventName, h => h.MaxBatchSize = batchSize);
        }
        else
        {
            fanOut.AddHandler<CountedHandler>(HandlerId, on: BenchHost.EventName);
        }
    };

    private static Task WaitAsync(Stopwatch clock, TimeSpan deadline, string what) =>
        clock.Elapsed > deadline
            ? throw new InvalidOperationException($"Still waiting for {what} after {Format.Seconds(clock.Elapsed)}: the measurement is void.")
            : Task.Delay(Poll);

    private static string Label(bool batched, int batchSize) => batched ? $"batch handler of {batchSize}" : "item handler";

    private static string Cpu(double? seconds, int items) => seconds is { } s ? Format.Plain(s * 1_000 / items, 3) : "n/a";

    private static string PerThousand(long count, int items) => Format.Plain(count * 1_000d / items, 1);

    private static string Times(List<ScalingRun> runs, bool batched) =>
        string.Join(",", runs.Where(r => r.Batched == batched).Select(r => Format.Plain(r.Elapsed.TotalSeconds, 1)));

    private sealed record ScalingRun(
        bool Batched,
        int Servers,
        int Items,
        TimeSpan Elapsed,
        double ServersCpu,
        double SenderCpu,
        double? PostgresCpu,
        long WalFlushes,
        long WalBytes);

    /// <summary>A server process this program started: it says when it is ready and how many items it handled so far.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _output = [];
        private readonly Task _reading;
        private long _handled;
        private TimeSpan _lastCpu;

        private ServerProcess(Process process)
        {
            _process = process;
            _reading = Task.Run(ReadAsync);
        }

        public Task Ready => _ready.Task;

        public long Handled => Interlocked.Read(ref _handled);

        public static ServerProcess Start(string connectionString, bool batched, BenchmarkOptions options)
        {
            var start = SelfProcess.StartInfo(
            [
                ServerCommand, "--connection", connectionString, "--workers", options.Workers.ToString(CultureInfo.InvariantCulture),
                "--handler", batched ? "batch" : "item", "--batch-size", options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ]);
            start.RedirectStandardInput = true;
            return new ServerProcess(Process.Start(start) ?? throw new InvalidOperationException("The server process did not start."));
        }

        /// <summary>The process's CPU time so far (the last one read, once it exited).</summary>
        public TimeSpan Cpu() => _lastCpu = ProcessCpu.Of(_process.Id) ?? _lastCpu;

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                _process.Kill(entireProcessTree: true);
            }

            await _reading;
            _process.Dispose();
        }

        private async Task ReadAsync()
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == "ready")
                {
                    _ready.TrySetResult();
                }
                else if (line.StartsWith("handled ", StringComparison.Ordinal))
                {
                    Interlocked.Exchange(ref _handled, long.Parse(line["handled ".Length..], CultureInfo.InvariantCulture));
                }
                else
                {
                    _output.Add(line);
                }
            }

            _ready.TrySetException(new InvalidOperationException(
                $"The server process ended (exit code {(_process.HasExited ? _process.ExitCode : -1)}) before it was ready:{Environment.NewLine}{string.Join(Environment.NewLine, _output)}"));
        }
    }
}
