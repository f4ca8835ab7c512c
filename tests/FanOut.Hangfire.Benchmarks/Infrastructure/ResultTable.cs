using System.Runtime.InteropServices;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>Prints a scenario's results as a Markdown table, with the machine it ran on.</summary>
internal sealed class ResultTable(string title, params string[] columns)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Print(string? database)
    {
        Console.WriteLine();
        Console.WriteLine($"### {title}");
        Console.WriteLine();
        Console.WriteLine(Machine(database));
        Console.WriteLine();
        Console.WriteLine("| " + string.Join(" | ", columns) + " |");
        Console.WriteLine("|" + string.Join("|", columns.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
        foreach (var row in _rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }

        Console.WriteLine();
    }

    private static string Machine(string? database) =>
        $"{Environment.ProcessorCount} cores {RuntimeInformation.OSArchitecture}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}" +
        (database is null ? string.Empty : ", " + database);
}
