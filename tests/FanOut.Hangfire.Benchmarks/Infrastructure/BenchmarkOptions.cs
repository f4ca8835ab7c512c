using System.Globalization;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>The command line: a scenario and its options.</summary>
internal sealed record BenchmarkOptions(
    string Command,
    string Storage,
    int? Items,
    int Workers,
    int Repeat,
    int BaselineItems,
    bool Durable,
    string? ConnectionString)
{
    public const string Usage = """
        Usage: dotnet run -c Release --project tests/FanOut.Hangfire.Benchmarks -- <scenario> [options]

          dispatch --storage postgres|inmemory --items N [--baseline-items M]
              Child jobs created per second: FanOut against a loop of IBackgroundJobClient.Enqueue. On PostgreSQL the loop
              and the generic path are timed on a sample of M items (5,000 by default): rate is what counts.
          execute --storage postgres --items N --workers W
              Jobs finished per second: FanOut child jobs against plain Hangfire jobs, both doing nothing.
          memory --items N
              Peak working set of a process dispatching N items from a streaming source into PostgreSQL, beside 10,000 items.

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
            values.TryGetValue("workers", out var workers) ? Number(workers, "workers") : 10,
            values.TryGetValue("repeat", out var repeat) ? Number(repeat, "repeat") : 3,
            values.TryGetValue("baseline-items", out var baseline) ? Number(baseline, "baseline-items") : 5_000,
            values.GetValueOrDefault("durable", "true") switch
            {
                "true" => true,
                "false" => false,
                var other => throw new ArgumentException($"--durable is true or false, not '{other}'."),
            },
            values.GetValueOrDefault("connection"));
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
