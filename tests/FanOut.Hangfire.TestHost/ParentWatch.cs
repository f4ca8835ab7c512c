using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// Ends this process when the test run that started it is gone, so that no host outlives its tests, even when the
/// test run itself is killed.
/// </summary>
internal sealed class ParentWatch(HostSettings settings) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.ParentPid is not { } parentPid)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (IsAlive(parentPid) && await timer.WaitForNextTickAsync(stoppingToken))
        {
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            Lines.Write("parent-exited");
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
