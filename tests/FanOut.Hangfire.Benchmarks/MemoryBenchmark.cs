using System.Diagnostics;
using System.Globalization;
using FanOut.Hangfire.Benchmarks.Infrastructure;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// How much memory a dispatch takes: a fresh process (an application host with FanOut and the PostgreSQL fast path, no
/// Hangfire server) sends N items from a stream it makes up as it goes, and reports the peak working set the operating
/// system saw for it. Measured for 10,000 items too, so the table shows whether memory grows with the run.
/// </summary>
internal static class MemoryBenchmark
{
    private const string ChildCommand = "memory-child";
    private const int ReferenceItems = 10_000;

    public static async Task RunAsync(BenchmarkOptions options)
    {
        var items = options.Items ?? 1_000_000;
        await using var postgres = await BenchmarkPostgres.StartAsync(options.Durable);
        var sizes = items == ReferenceItems ? new[] { items } : [ReferenceItems, items];
        var peaks = new Dictionary<int, (long Bytes, double Rate)>();
        foreach (var size in sizes)
        {
            peaks[size] = await MeasureInChildAsync(await postgres.CreateDatabaseAsync("memory"), size);
            Console.WriteLine($"  {Format.Count(size)} items: peak working set {Megabytes(peaks[size].Bytes)} MB, {Format.Rate(peaks[size].Rate)} jobs/s");
        }

        var reference = peaks[sizes[0]].Bytes;
        var table = new ResultTable(
            $"memory · postgres · dispatching from a streaming source",
            "Items dispatched (one process each)", "peak working set", "vs 10,000 items", "jobs/s");
        foreach (var size in sizes)
        {
            table.Add(
                Format.Count(size),
                Megabytes(peaks[size].Bytes) + " MB",
                "+" + Format.Plain((peaks[size].Bytes / (double)reference - 1) * 100, 1) + "%",
                Format.Rate(peaks[size].Rate));
        }

        table.Print(postgres.Description);
        Console.WriteLine($"memory items={items} peak-mb={Megabytes(peaks[items].Bytes)}");
    }

    /// <summary>The child process: dispatches and prints its peak working set; nothing else runs in it.</summary>
    public static async Task RunChildAsync(BenchmarkOptions options)
    {
        var storage = BenchHost.Postgres(options.ConnectionString ?? throw new ArgumentException("--connection is required."));
        var host = await BenchHost.StartAsync(storage, postgreSqlDispatch: true);
        try
        {
            var items = options.Items ?? throw new ArgumentException("--items is required.");
            var clock = Stopwatch.StartNew();
            await host.Services.GetRequiredService<IFanOutClient>().SendManyAsync(BenchHost.EventName, Items.Stream(items));
            var rate = items / clock.Elapsed.TotalSeconds;
            if (host.Services.GetRequiredService<IFanOutChunkWriter>() is PostgreSqlChunkWriter { Decision: { Target: null } decision })
            {
                throw new InvalidOperationException($"The fast path was not taken: the dispatch used {decision.Description}.");
            }

            using var self = Process.GetCurrentProcess();
            Console.WriteLine($"peak-bytes={self.PeakWorkingSet64.ToString(CultureInfo.InvariantCulture)} rate={Format.Plain(rate)}");
        }
        finally
        {
            await BenchHost.StopAsync(host, storage);
        }
    }

    private static async Task<(long Bytes, double Rate)> MeasureInChildAsync(string connectionString, int items)
    {
        var start = SelfProcess.StartInfo([ChildCommand, "--items", items.ToString(CultureInfo.InvariantCulture), "--connection", connectionString]);
        using var child = Process.Start(start)!;
        var output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        var report = output.Split('\n').LastOrDefault(l => l.StartsWith("peak-bytes=", StringComparison.Ordinal));
        if (child.ExitCode != 0 || report is null)
        {
            throw new InvalidOperationException($"The measuring process failed (exit code {child.ExitCode}):{Environment.NewLine}{output}");
        }

        var fields = report.Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        return (long.Parse(fields["peak-bytes"], CultureInfo.InvariantCulture), double.Parse(fields["rate"], CultureInfo.InvariantCulture));
    }

    private static string Megabytes(long bytes) => Format.Plain(bytes / 1024d / 1024d);
}
