using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FanOut.Hangfire.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// One test host (tests/FanOut.Hangfire.TestHost), or another program such as a sample, running as a child process:
/// started with <c>dotnet</c>, read line by line, and killed with SIGKILL together with any process it started. A
/// process that outlives its test is killed when the test disposes it, when the test run exits, and, should the test
/// run itself be killed, by the test host watching its parent.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private const string HostAssembly = "FanOut.Hangfire.TestHost.dll";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly ConcurrentDictionary<HostProcess, byte> Running = new();
    private static readonly Lazy<string> HostPath = new(() => BuildOutput.PathOf("tests/FanOut.Hangfire.TestHost", HostAssembly));

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly ITestOutputHelper? _output;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    static HostProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var host in Running.Keys)
        {
            host.Kill();
        }
    };

    private HostProcess(string name, Process process, ITestOutputHelper? output)
    {
        Name = name;
        _process = process;
        _output = output;
    }

    /// <summary>The name the test gave this process, used in its output lines.</summary>
    public string Name { get; }

    /// <summary>The process id, still known after the process is gone.</summary>
    public int Pid { get; private set; }

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Every line the host wrote to standard output and standard error so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Starts a host and waits until its Hangfire server runs.</summary>
    /// <param name="name">How the test calls it, for diagnostics.</param>
    /// <param name="connectionString">The PostgreSQL database for Hangfire and the host's journal.</param>
    /// <param name="settings">Configuration as key/value pairs, such as <c>Host:Workers</c> or <c>FanOut:ChunkSize</c>.</param>
    /// <param name="output">Where the host's lines are copied for a failing test's report.</param>
    public static async Task<HostProcess> StartAsync(
        string name,
        string connectionString,
        IEnumerable<KeyValuePair<string, string>> settings,
        ITestOutputHelper? output)
    {
        var startInfo = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(HostPath.Value)! };
        startInfo.ArgumentList.Add(HostPath.Value);
        startInfo.ArgumentList.Add($"--ConnectionStrings:Hangfire={connectionString}");
        startInfo.ArgumentList.Add($"--Host:ParentPid={Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (key, value) in settings)
        {
            startInfo.ArgumentList.Add($"--{key}={value}");
        }

        var host = Start(name, startInfo, output);
        try
        {
            await host.WaitForLineAsync(line => line.StartsWith("ready|", StringComparison.Ordinal), ReadyTimeout, "its Hangfire server to start");
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    /// <summary>
    /// Starts any program and reads its output, without waiting for anything; the caller waits for what it needs with
    /// <see cref="WaitForLineAsync"/>. Standard output and standard error are redirected here.
    /// </summary>
    /// <param name="name">How the test calls it, for diagnostics.</param>
    /// <param name="startInfo">What to run: file name, arguments, working folder and environment.</param>
    /// <param name="output">Where its lines are copied for a failing test's report.</param>
    public static HostProcess Start(string name, ProcessStartInfo startInfo, ITestOutputHelper? output)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var host = new HostProcess(name, process, output);
        process.OutputDataReceived += (_, e) => host.Receive(e.Data);
        process.ErrorDataReceived += (_, e) => host.Receive(e.Data is null ? null : "stderr|" + e.Data);
        process.Exited += (_, _) => host._exited.TrySetResult();
        process.Start();
        host.Pid = process.Id;
        Running.TryAdd(host, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>SIGKILL: no shutdown, no finally blocks, no flushing; as a crash or an OOM kill.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }
    }

    /// <summary>Kills the process and waits until the operating system has reaped it.</summary>
    public async Task KillAsync()
    {
        Kill();
        await _exited.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for a line the host writes (or wrote already), failing if the host exits first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what, int skip = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = Lines.Skip(skip).FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (HasExited)
            {
                throw new InvalidOperationException($"Host {Name} (pid {Pid}) exited while the test waited for {what}.{Tail()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {what} from host {Name} (pid {Pid}).{Tail()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The host's last lines, for failure messages.</summary>
    public string Tail(int count = 30) =>
        $"{Environment.NewLine}Last lines of host {Name}:{Environment.NewLine}" + string.Join(Environment.NewLine, Lines.TakeLast(count));

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // Reported by the test that follows, if the process is truly stuck; nothing more can be done here.
        }

        Running.TryRemove(this, out _);
        _process.Dispose();
    }

    private void Receive(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }

        try
        {
            _output?.WriteLine($"[{Name} {DateTime.UtcNow:HH:mm:ss.fff}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; its output is closed.
        }
    }
}
