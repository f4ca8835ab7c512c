using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;
using Xunit;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// A Redis server for the tests of the <c>redis</c> collection. Uses the server named by <c>FANOUT_TEST_REDIS</c>
/// (<c>host:port</c>) when set; otherwise starts a throwaway <c>redis-server</c> on a free loopback port, without
/// persistence, and kills it and deletes its folder when the collection finishes. Each test takes its own key prefix.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    /// <summary><c>host:port</c> of an existing server to use instead of starting one.</summary>
    public const string EndpointVariable = "FANOUT_TEST_REDIS";

    /// <summary>Path of the redis-server binary, when it is not <see cref="DefaultBinary"/>.</summary>
    public const string BinaryVariable = "FANOUT_TEST_REDIS_BIN";

    public const string DefaultBinary = "/usr/bin/redis-server";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly string? _externalEndpoint;
    private readonly string _binary;

    private Process? _process;
    private string? _folder;
    private string? _endpoint;
    private ConnectionMultiplexer? _connection;

    public RedisServer()
        : this(Environment.GetEnvironmentVariable(EndpointVariable), Environment.GetEnvironmentVariable(BinaryVariable))
    {
    }

    // Lets a test check the failure messages without touching process-wide environment variables.
    internal RedisServer(string? externalEndpoint, string? binary)
    {
        _externalEndpoint = string.IsNullOrWhiteSpace(externalEndpoint) ? null : externalEndpoint;
        _binary = string.IsNullOrWhiteSpace(binary) ? DefaultBinary : binary;
    }

    /// <summary><c>host:port</c> of the server.</summary>
    public string Endpoint =>
        _endpoint ?? throw new InvalidOperationException("The Redis server is not initialised; use RedisServer as an xunit fixture.");

    /// <summary>One connection to the server that every storage of the collection shares.</summary>
    public IConnectionMultiplexer Connection =>
        _connection ?? throw new InvalidOperationException("The Redis server is not initialised; use RedisServer as an xunit fixture.");

    /// <summary>A key prefix no other test uses, so tests sharing the server do not see each other's keys.</summary>
    public static string NewPrefix() => $"fanout-test:{Guid.NewGuid():N}:";

    public async Task InitializeAsync()
    {
        if (_externalEndpoint is null)
        {
            StartOnAFreePort();
        }
        else
        {
            _endpoint = _externalEndpoint;
        }

        await ConnectWhenReadyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        if (_process is not null)
        {
            TryKill(_process);
            _process.Dispose();
            _process = null;
        }

        if (_folder is not null)
        {
            TryDeleteFolder(_folder);
            _folder = null;
        }
    }

    private void StartOnAFreePort()
    {
        if (!File.Exists(_binary))
        {
            throw new InvalidOperationException(
                $"redis-server not found at {_binary}; install it with `apt-get install -y redis-server`, or set " +
                $"{EndpointVariable} to the host:port of a running server (or {BinaryVariable} to the binary's path).");
        }

        _folder = Directory.CreateTempSubdirectory("fanout-redis-").FullName;
        var port = LoopbackPort.Free();
        var startInfo = new ProcessStartInfo
        {
            FileName = _binary,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        foreach (var argument in new[]
                 {
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty,
                     "--appendonly", "no", "--dir", _folder, "--logfile", Path.Combine(_folder, "redis.log"),
                 })
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{_binary} did not start.");
        }
        catch (Win32Exception exception)
        {
            TryDeleteFolder(_folder);
            throw new InvalidOperationException($"Could not run {_binary}: {exception.Message}", exception);
        }

        _endpoint = $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
    }

    private async Task ConnectWhenReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var options = ConfigurationOptions.Parse(Endpoint);
                options.AbortOnConnectFail = true;
                options.ConnectTimeout = 2_000;
                var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetDatabase().PingAsync();
                _connection = connection;
                return;
            }
            catch (RedisException exception) when (clock.Elapsed < ReadyTimeout && _process is not { HasExited: true })
            {
                _ = exception; // Not up yet: poll again.
            }
            catch (RedisException exception)
            {
                var why = _process is { HasExited: true } exited
                    ? $"redis-server exited with code {exited.ExitCode.ToString(CultureInfo.InvariantCulture)}"
                    : $"it did not answer PING within {ReadyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
                await DisposeAsync();
                throw new InvalidOperationException($"Redis at {_endpoint}: {why}: {exception.Message}{LogTail()}", exception);
            }

            await Task.Delay(PollInterval);
        }
    }

    private string LogTail()
    {
        var log = _folder is null ? null : Path.Combine(_folder, "redis.log");
        return log is not null && File.Exists(log)
            ? $"{Environment.NewLine}Server log (tail):{Environment.NewLine}{string.Join(Environment.NewLine, File.ReadLines(log).TakeLast(20))}"
            : string.Empty;
    }

    private static void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            Console.Error.WriteLine($"RedisServer: could not kill redis-server: {exception.Message}");
        }
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"RedisServer: could not delete {folder}: {exception.Message}");
        }
    }
}
