using System.Diagnostics;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>How this program starts another process of itself, for a scenario measured in a process of its own.</summary>
internal static class SelfProcess
{
    /// <summary>
    /// Start information for this program with <paramref name="arguments"/> (a scenario and its options), standard
    /// output redirected: run as <c>dotnet {assembly}</c> when it was started so, else as its own executable.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
