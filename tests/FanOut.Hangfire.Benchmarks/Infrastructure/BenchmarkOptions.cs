using System.Globalization;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>The command line: a scenario and its options.</summary>
internal sealed record BenchmarkOptions(
    string Command,
    string Storage,
    int? Items,
    int? WorkerCount,
    int Repeat,
    int BaselineItems,
    bool Durable,
    string? ConnectionString)
{
    /// <summary>The workers of the Hangfire server: 10 unless told (20 for <c>flow</c>, which needs more than its limits).</summary>
    public int Workers => WorkerCount ?? 10;

    /// <summary>Whether the flow scenario lists the statements each run executed most often, and the dispatch scenario where a fast-path job's time goes (<c>--profile true</c>).</summary>
    public bool Profile { get; init; }

    /// <summary>The most items a batch handler's call gets in the end-to-end scenario (<c>--batch-size</c>, 100 by default).</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>
    /// The end-to-end scenario's <see cref="FanOutOptions.CompletionCheckInterval"/> (<c>--completion-check-ms</c>); null keeps
    /// the library's default.
    /// </summary>
    public TimeSpan? CompletionCheck { get; init; }

    /// <summary>The scaling scenario's most server processes (<c>--servers</c>, 3 by default): it measures 1 to this many.</summary>
    public int Servers { get; init; } = 3;

    /// <summary>The scaling scenario's items for the batch handler (<c>--batched-items</c>; ten times <c>--items</c> unless given).</summary>
    public int? BatchedItems { get; init; }

    /// <summary>The handler a scaling server process declares: <c>item</c> or <c>batch</c> (<c>--handler</c>).</summary>
    public string Handler { get; init; } = "item";

    /// <summary>The flow scenario's keys, per-key limit and global limit.</summary>
    public FlowShape Flow { get; init; } = new(20, 2, 10);

    public const string Usage = """
        Usage: dotnet run -c Release --project tests/FanOut.Hangfire.Benchmarks -- <scenario> [options]

          dispatch --storage postgres|inmemory --items N [--baseline-items M]
              Child jobs created per second: FanOut against a loop of IBackgroundJobClient.Enqueue. On PostgreSQL the loop
              and the generic path are timed on a sample of M items (5,000 by default): rate is what counts.
          execute --storage postgres --items N --workers W
              Jobs finished per second: FanOut child jobs against plain Hangfire jobs, both doing nothing.
          flow --storage postgres|inmemory --items N [--keys K] [--per-key L] [--global G] [--workers W]
              Concurrency limits at work: N items of 50 ms over K keys (one holding half), at most L per key and G in all,
              W workers (20 by default); peaks, bounces, statements per job against an unlimited run, and efficiency.
          end-to-end --storage postgres|inmemory --items N --workers W [--batch-size B] [--completion-check-ms C]
              From the trigger to the run complete, no-op work, one server of W workers: an Enqueue loop of plain jobs,
              FanOut with an item handler, FanOut with a batch handler of B items (100 by default); C sets
              FanOutOptions.CompletionCheckInterval (the library's default, 1 s, unless given).
          scaling --storage postgres --items N [--batched-items M] [--servers S] [--workers W] [--batch-size B]
              From the trigger to the run complete with 1 to S Hangfire server processes (3 by default) of W workers each
              sharing one PostgreSQL, per-item (N items, 10,000 by default) and batched (M items, 10 times N by default),
              with the CPU time per 1,000 items of the servers, the sender and PostgreSQL (the model of docs/scaling.md).
          cancel --storage postgres|inmemory --items N
              A cancelled run's waiting jobs deleted per second: N items waiting behind a concurrency limit of 1, from
              CancelAsync until none waits (generic path and, on PostgreSQL, the fast path), against a loop of
              IBackgroundJobClient.Delete of as many plain jobs scheduled a day ahead.
          memory --items N
              Peak working set of a process dispatching N items from a streaming source into PostgreSQL, beside 10,000 items.

          --profile true     (flow, execute, end-to-end, scaling, cancel) list the statements each run executed most often, per job;
                             (dispatch) the fast path's CPU, allocations and statement time per job
          --repeat R         runs of each measurement; the best counts (3 by default)
          --durable false    start the throwaway cluster with fsync and synchronous_commit off, as the tests do

        PostgreSQL: FANOUT_BENCH_POSTGRES=<connection string>, or a throwaway cluster started from the server binaries
        with PostgreSQL's own durable commits.
        """;

    public static BenchmarkOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            throw new ArgumentException("Name a scenario.");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected an option and its value at '{args[i]}'.");
            }

            values[args[i][2..]] = args[i + 1];
        }

        var options = new BenchmarkOptions(
            args[0],
            values.GetValueOrDefault("storage", "postgres"),
            values.TryGetValue("items", out var items) ? Number(items, "items") : null,
            values.TryGetValue("workers", out var workers) ? Number(workers, "workers") : null,
            values.TryGetValue("repeat", out var repeat) ? Number(repeat, "repeat") : 3,
            values.TryGetValue("baseline-items", out var baseline) ? Number(baseline, "baseline-items") : 5_000,
            values.GetValueOrDefault("durable", "true") switch
            {
                "true" => true,
                "false" => false,
                var other => throw new ArgumentException($"--durable is true or false, not '{other}'."),
            },
            values.GetValueOrDefault("connection"))
        {
            Profile = values.GetValueOrDefault("profile", "false") == "true",
            BatchSize = values.TryGetValue("batch-size", out var batchSize) ? Number(batchSize, "batch-size") : 100,
            CompletionCheck = values.TryGetValue("completion-check-ms", out var check) ? TimeSpan.FromMilliseconds(Number(check, "completion-check-ms")) : null,
            Servers = values.TryGetValue("servers", out var servers) ? Number(servers, "servers") : 3,
            BatchedItems = values.TryGetValue("batched-items", out var batchedItems) ? Number(batchedItems, "batched-items") : null,
            Handler = values.GetValueOrDefault("handler", "item"),
            Flow = new FlowShape(
                values.TryGetValue("keys", out var keys) ? Number(keys, "keys") : 20,
                values.TryGetValue("per-key", out var perKey) ? Number(perKey, "per-key") : 2,
                values.TryGetValue("global", out var global) ? Number(global, "global") : 10),
        };
        if (options.Storage is not ("postgres" or "inmemory"))
        {
            throw new ArgumentException($"--storage is postgres or inmemory, not '{options.Storage}'.");
        }

        return options;
    }

    private static int Number(string text, string name) =>
        int.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"--{name} takes a positive whole number, not '{text}'.");
}

/// <summary>The flow scenario's shape: how many keys, and the per-key and global concurrency limits.</summary>
internal sealed record FlowShape(int Keys, int PerKey, int Global);
