using System.Globalization;

namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>
/// CPU time the operating system charged to processes, read from Linux's <c>/proc</c> (user plus system time): of one
/// process, and of a PostgreSQL cluster (its postmaster, every backend it started, and the backends that already exited,
/// which the kernel charges to the postmaster once it reaps them). Null where <c>/proc</c> does not tell (another
/// operating system, a server on another machine).
/// </summary>
internal static class ProcessCpu
{
    // Linux reports these fields in clock ticks of 1/100 s (USER_HZ) on every architecture .NET runs on.
    private const double TicksPerSecond = 100;

    /// <summary>The CPU time of the process <paramref name="pid"/> so far, or null once it is gone.</summary>
    public static TimeSpan? Of(int pid) => Read(pid) is { } stat ? Ticks(stat.Own) : null;

    /// <summary>The CPU time of the PostgreSQL cluster listening on <paramref name="port"/>, or null when none runs here.</summary>
    public static TimeSpan? OfPostgres(int port)
    {
        if (!Directory.Exists("/proc") || FindPostmaster(port) is not { } postmaster || Read(postmaster) is not { } own)
        {
            return null;
        }

        var ticks = own.Own + own.Reaped;
        foreach (var pid in Pids())
        {
            if (pid != postmaster && Read(pid) is { } stat && stat.Parent == postmaster)
            {
                ticks += stat.Own;
            }
        }

        return Ticks(ticks);
    }

    private static int? FindPostmaster(int port)
    {
        var portArgument = port.ToString(CultureInfo.InvariantCulture);
        foreach (var pid in Pids())
        {
            string[] arguments;
            try
            {
                arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            var portAt = Array.IndexOf(arguments, "-p");
            if (arguments.Length > 0 && Path.GetFileName(arguments[0]) == "postgres" && portAt >= 0 && portAt + 1 < arguments.Length
                && arguments[portAt + 1] == portArgument)
            {
                return pid;
            }
        }

        return null;
    }

    private static IEnumerable<int> Pids() =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    /// <summary>Fields of <c>/proc/{pid}/stat</c>: the parent, own user+system ticks, reaped children's user+system ticks.</summary>
    private static (int Parent, long Own, long Reaped)? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name, in brackets, may hold spaces: the fields are counted from the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return ((int)Field(4), Field(14) + Field(15), Field(16) + Field(17));
    }

    private static TimeSpan Ticks(long ticks) => TimeSpan.FromSeconds(ticks / TicksPerSecond);
}
