using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using Npgsql;
using Xunit;

namespace FanOut.Hangfire.Testing;

/// <summary>
/// A PostgreSQL server for the tests of the <c>postgres</c> collection. Uses the server named by
/// <c>FANOUT_TEST_POSTGRES</c> when set; otherwise starts a throwaway cluster in a temp folder and
/// removes it again when the collection finishes. Each test asks for its own database.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    /// <summary>Connection string of an existing server to use instead of starting one.</summary>
    public const string ConnectionStringVariable = "FANOUT_TEST_POSTGRES";

    /// <summary>Folder holding initdb and pg_ctl, when they are not in a standard place.</summary>
    public const string BinDirectoryVariable = "FANOUT_TEST_POSTGRES_BIN";

    private const string PostgresUser = "postgres";

    private const string InstallHint =
        "Install them with `apt-get install -y postgresql`, or set " + ConnectionStringVariable +
        " to a connection string.";

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    // initdb writes a few thousand files; give slow disks more room than the other commands.
    private static readonly TimeSpan InitDbTimeout = TimeSpan.FromSeconds(120);

    // Generous: covers slow machines and external servers that are still starting.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly string? _externalConnectionString;
    private readonly string? _binDirectoryOverride;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Databases made on an external server are dropped at the end; a throwaway cluster is deleted whole.
    private readonly List<string> _createdDatabases = [];

    private Cluster? _cluster;
    private string? _connectionString;
    private bool _running;

    public PostgresServer()
        : this(
            Environment.GetEnvironmentVariable(ConnectionStringVariable),
            Environment.GetEnvironmentVariable(BinDirectoryVariable))
    {
    }

    // Lets a test check the failure messages without touching process-wide environment variables.
    internal PostgresServer(string? externalConnectionString, string? binDirectoryOverride)
    {
        _externalConnectionString = string.IsNullOrWhiteSpace(externalConnectionString) ? null : externalConnectionString;
        _binDirectoryOverride = string.IsNullOrWhiteSpace(binDirectoryOverride) ? null : binDirectoryOverride;
    }

    /// <summary>
    /// Runs a self-started cluster with PostgreSQL's own durability settings (every commit flushed to disk), as a
    /// production server does. Off by default: tests do not need durability, and it slows every commit.
    /// </summary>
    internal bool DurableCommits { get; init; }

    /// <summary>Admin connection string to the <c>postgres</c> database.</summary>
    public string ConnectionString =>
        _connectionString ?? throw new InvalidOperationException(
            "The PostgreSQL server is not initialised; use PostgresServer as an xunit fixture.");

    /// <summary>True when this fixture started the cluster itself (and so can stop and start it).</summary>
    public bool IsSelfStarted => _cluster is not null;

    public async Task InitializeAsync()
    {
        if (_externalConnectionString is not null)
        {
            var builder = new NpgsqlConnectionStringBuilder(_externalConnectionString) { IncludeErrorDetail = true };
            _connectionString = builder.ConnectionString;
            await WaitUntilReadyAsync(_connectionString, ReadyTimeout, logFile: null);
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            // The throwaway cluster relies on Unix sockets, file modes and runuser.
            throw new PlatformNotSupportedException(
                $"Starting a throwaway PostgreSQL cluster is not supported on Windows; set {ConnectionStringVariable} to a connection string.");
        }

        var binDirectory = await FindBinDirectoryAsync();
        var runAsPostgres = IsRoot();
        if (runAsPostgres)
        {
            await EnsurePostgresUserExistsAsync();
        }

        var cluster = CreateClusterFolders(binDirectory, runAsPostgres) with { DurableCommits = DurableCommits };
        try
        {
            if (runAsPostgres)
            {
                // initdb and postgres refuse to run as root, so the postgres user must own the folder.
                var chown = await RunAsync("chown", ["-R", PostgresUser, cluster.Root], runAsPostgres: false, cluster.Root, ProcessTimeout);
                chown.ThrowIfFailed("chown of the cluster folder");
            }

            await InitDbAsync(cluster);
            await StartClusterOnAFreePortAsync(cluster);
            _cluster = cluster;
            _running = true;
            _connectionString = AdminConnectionString(cluster.Port);
            await WaitUntilReadyAsync(_connectionString, ReadyTimeout, cluster.LogFile);
        }
        catch
        {
            _cluster = null;
            _running = false;
            _connectionString = null;
            await TryStopAsync(cluster);
            TryDeleteFolder(cluster.Root);
            throw;
        }
    }

    /// <summary>
    /// Creates a fresh, uniquely named database and returns a pooled connection string to it.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? prefix = null)
    {
        var name = $"{SanitisePrefix(prefix)}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        if (!IsSelfStarted)
        {
            lock (_createdDatabases)
            {
                _createdDatabases.Add(name);
            }
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString)
        {
            Database = name,
            Pooling = true,
            MaxPoolSize = 50,
            IncludeErrorDetail = true,
        };
        return builder.ConnectionString;
    }

    /// <summary>
    /// Stops the self-started cluster: open connections are cut off, and the databases survive for
    /// <see cref="StartAsync"/>. Does nothing when already stopped.
    /// </summary>
    public async Task StopAsync()
    {
        var cluster = RequireSelfStarted(nameof(StopAsync));
        await _gate.WaitAsync();
        try
        {
            if (!_running)
            {
                return;
            }

            NpgsqlConnection.ClearAllPools();
            // "fast", not "immediate": with synchronous_commit=off an immediate stop throws away the
            // last few hundred milliseconds of committed transactions, which tests would see as data loss.
            var stop = await PgCtlAsync(cluster, ["stop", "-D", cluster.Data, "-m", "fast", "-w", "-t", "60"]);
            stop.ThrowIfFailed("pg_ctl stop", LogTail(cluster.LogFile));
            _running = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts the self-started cluster again on the same port, so earlier connection strings stay
    /// valid, and waits until it accepts connections. Does nothing when already running.
    /// </summary>
    public async Task StartAsync()
    {
        var cluster = RequireSelfStarted(nameof(StartAsync));
        await _gate.WaitAsync();
        try
        {
            if (_running)
            {
                return;
            }

            var start = await StartPostmasterAsync(cluster);
            start.ThrowIfFailed("pg_ctl start", LogTail(cluster.LogFile));
            _running = true;
            await WaitUntilReadyAsync(ConnectionString, ReadyTimeout, cluster.LogFile);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        if (_connectionString is not null)
        {
            // Pooled connections would otherwise keep server backends (and dropped databases) busy.
            NpgsqlConnection.ClearAllPools();
        }

        if (_cluster is { } cluster)
        {
            if (_running)
            {
                await TryStopAsync(cluster);
                _running = false;
            }

            TryDeleteFolder(cluster.Root);
            _cluster = null;
        }
        else if (_connectionString is not null)
        {
            await TryDropCreatedDatabasesAsync(_connectionString);
        }

        _gate.Dispose();
    }

    private Cluster RequireSelfStarted(string operation) =>
        _cluster ?? throw new InvalidOperationException(
            $"{operation} only works on the cluster this fixture starts itself, but the tests use " +
            (_connectionString is null
                ? "no server yet (the fixture is not initialised)."
                : $"an external server from {ConnectionStringVariable}. Unset it to let the tests start their own cluster."));

    private async Task<string> FindBinDirectoryAsync()
    {
        var searched = new List<string>();

        if (_binDirectoryOverride is not null)
        {
            if (HasServerBinaries(_binDirectoryOverride))
            {
                return _binDirectoryOverride;
            }

            throw new InvalidOperationException(
                $"PostgreSQL server binaries (initdb, pg_ctl) were not found in {_binDirectoryOverride}, " +
                $"the folder named by {BinDirectoryVariable}. Point it at the folder holding them or unset it. " +
                InstallHint);
        }

        // pg_config may come from libpq-dev without a server, so its answer is checked like the rest.
        var pgConfigDirectory = await TryPgConfigBinDirAsync();
        if (pgConfigDirectory is not null)
        {
            searched.Add($"{pgConfigDirectory} (pg_config --bindir)");
            if (HasServerBinaries(pgConfigDirectory))
            {
                return pgConfigDirectory;
            }
        }

        foreach (var directory in DebianBinDirectoriesNewestFirst())
        {
            if (HasServerBinaries(directory))
            {
                return directory;
            }
        }

        searched.Add("/usr/lib/postgresql/*/bin");
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (HasServerBinaries(directory))
            {
                return directory;
            }
        }

        searched.Add("PATH");
        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found (searched " +
            string.Join(", ", searched.Distinct()) + "). " + InstallHint +
            $" {BinDirectoryVariable} may also name the folder holding them.");
    }

    private static bool HasServerBinaries(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

    private static async Task<string?> TryPgConfigBinDirAsync()
    {
        try
        {
            var result = await RunAsync("pg_config", ["--bindir"], runAsPostgres: false, Environment.CurrentDirectory, ProcessTimeout);
            var directory = result.StandardOutput.Trim();
            return result.ExitCode == 0 && directory.Length > 0 ? directory : null;
        }
        catch (InvalidOperationException)
        {
            // No pg_config on PATH: fall back to the other places.
            return null;
        }
    }

    private static IEnumerable<string> DebianBinDirectoriesNewestFirst()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.GetDirectories(root)
            .Select(directory => (directory, version: ParseVersion(Path.GetFileName(directory))))
            .OrderByDescending(entry => entry.version)
            .Select(entry => Path.Combine(entry.directory, "bin"));

        static Version ParseVersion(string name) =>
            Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out var version)
                ? version
                : new Version(0, 0);
    }

    private static bool IsRoot() => Environment.UserName == "root";

    private static async Task EnsurePostgresUserExistsAsync()
    {
        var id = await RunAsync("id", ["-u", PostgresUser], runAsPostgres: false, Environment.CurrentDirectory, ProcessTimeout);
        if (id.ExitCode != 0)
        {
            throw new InvalidOperationException(
                "The tests run as root, and initdb refuses to run as root, so the cluster is run as the " +
                $"'{PostgresUser}' OS user, which does not exist. The postgresql package creates it: " +
                InstallHint);
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static Cluster CreateClusterFolders(string binDirectory, bool runAsPostgres)
    {
        // As root, TMPDIR may point somewhere the postgres user cannot reach; /tmp is always reachable.
        var tempRoot = runAsPostgres ? "/tmp" : Path.GetTempPath();
        var root = Path.Combine(tempRoot, $"fanout-pg-{Guid.NewGuid():N}");
        var socketDirectory = Path.Combine(root, "socket");
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(root, ownerOnly);
        Directory.CreateDirectory(socketDirectory, ownerOnly);
        return new Cluster(
            binDirectory,
            root,
            Data: Path.Combine(root, "data"),
            socketDirectory,
            LogFile: Path.Combine(root, "postgres.log"),
            runAsPostgres);
    }

    private static async Task InitDbAsync(Cluster cluster)
    {
        // --locale=C keeps initdb independent of whichever LANG the machine has (or lacks).
        var initdb = await RunAsync(
            Path.Combine(cluster.BinDirectory, "initdb"),
            ["-D", cluster.Data, "-A", "trust", "-U", PostgresUser, "--no-sync", "-E", "UTF8", "--locale=C"],
            cluster.RunAsPostgres,
            cluster.Root,
            InitDbTimeout);
        initdb.ThrowIfFailed("initdb");
    }

    private static async Task StartClusterOnAFreePortAsync(Cluster cluster)
    {
        // Another process may take the free port before postgres binds it; try a few ports.
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            cluster.Port = LoopbackPort.Free();
            var start = await StartPostmasterAsync(cluster);
            if (start.ExitCode == 0)
            {
                return;
            }

            var log = LogTail(cluster.LogFile);
            if (attempt == attempts || !log.Contains("could not bind", StringComparison.OrdinalIgnoreCase))
            {
                start.ThrowIfFailed("pg_ctl start", log);
            }
        }
    }

    private static Task<ProcessResult> StartPostmasterAsync(Cluster cluster)
    {
        var options = string.Join(
            ' ',
            $"-p {cluster.Port.ToString(CultureInfo.InvariantCulture)}",
            $"-k '{cluster.SocketDirectory}'", // pg_ctl hands -o to a shell, so quote the path.
            "-c listen_addresses=127.0.0.1",
            // Durability is pointless for a throwaway cluster and slows every commit.
            cluster.DurableCommits ? string.Empty : "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            // Hangfire servers and per-test pools open many connections.
            "-c max_connections=300",
            "-c shared_buffers=128MB");
        return PgCtlAsync(cluster, ["start", "-D", cluster.Data, "-l", cluster.LogFile, "-w", "-t", "60", "-o", options]);
    }

    private static Task<ProcessResult> PgCtlAsync(Cluster cluster, IReadOnlyList<string> arguments) =>
        RunAsync(Path.Combine(cluster.BinDirectory, "pg_ctl"), arguments, cluster.RunAsPostgres, cluster.Root, ProcessTimeout);

    private static string AdminConnectionString(int port) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = PostgresUser,
            Database = "postgres",
            IncludeErrorDetail = true,
        }.ConnectionString;

    private static async Task WaitUntilReadyAsync(string connectionString, TimeSpan timeout, string? logFile)
    {
        // pg_ctl -w already waits; this also covers external servers and crash recovery after a restart.
        var probe = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (NpgsqlException) when (clock.Elapsed < timeout)
            {
                // Not up yet (refused, or "the database system is starting up"): poll again.
            }
            catch (NpgsqlException exception)
            {
                var where = new NpgsqlConnectionStringBuilder(connectionString);
                throw new InvalidOperationException(
                    $"PostgreSQL at {where.Host}:{where.Port.ToString(CultureInfo.InvariantCulture)} did not accept " +
                    $"connections within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: {exception.Message}" +
                    (logFile is null ? string.Empty : $"{Environment.NewLine}Server log (tail):{Environment.NewLine}{LogTail(logFile)}"),
                    exception);
            }

            await Task.Delay(PollInterval);
        }
    }

    private static async Task TryStopAsync(Cluster cluster)
    {
        if (!File.Exists(Path.Combine(cluster.Data, "postmaster.pid")))
        {
            return;
        }

        try
        {
            var stop = await PgCtlAsync(cluster, ["stop", "-D", cluster.Data, "-m", "immediate", "-w", "-t", "60"]);
            if (stop.ExitCode == 0)
            {
                return;
            }

            await Console.Error.WriteLineAsync($"PostgresServer: pg_ctl stop failed: {stop.Describe()}");
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"PostgresServer: pg_ctl stop failed: {exception.Message}");
        }

        TryKillPostmaster(cluster);
    }

    // Last resort so a failed stop does not leave a postmaster running on the machine.
    private static void TryKillPostmaster(Cluster cluster)
    {
        try
        {
            var pidLine = File.ReadLines(Path.Combine(cluster.Data, "postmaster.pid")).FirstOrDefault();
            if (int.TryParse(pidLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                using var postmaster = Process.GetProcessById(pid);
                postmaster.Kill(entireProcessTree: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException
                                               or ArgumentException or InvalidOperationException
                                               or Win32Exception or NotSupportedException)
        {
            Console.Error.WriteLine($"PostgresServer: could not kill the postmaster of {cluster.Data}: {exception.Message}");
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
            Console.Error.WriteLine($"PostgresServer: could not delete {folder}: {exception.Message}");
        }
    }

    private async Task TryDropCreatedDatabasesAsync(string connectionString)
    {
        string[] names;
        lock (_createdDatabases)
        {
            names = [.. _createdDatabases];
            _createdDatabases.Clear();
        }

        foreach (var name in names)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                // FORCE ends connections a test left open (PostgreSQL 13+).
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException exception)
            {
                await Console.Error.WriteLineAsync($"PostgresServer: could not drop database {name}: {exception.Message}");
            }
        }
    }

    private static string SanitisePrefix(string? prefix)
    {
        if (string.IsNullOrWhiteSpace(prefix))
        {
            return "fanout_test";
        }

        // Unquoted-identifier characters only, and short enough that prefix + '_' + 32 hex digits
        // stays within PostgreSQL's 63-byte identifier limit.
        var builder = new StringBuilder(prefix.Length);
        foreach (var character in prefix.ToLowerInvariant())
        {
            builder.Append(character is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? character : '_');
        }

        return builder.ToString(0, Math.Min(builder.Length, 30));
    }

    private static string LogTail(string logFile, int lines = 40)
    {
        try
        {
            return File.Exists(logFile)
                ? string.Join(Environment.NewLine, File.ReadLines(logFile).TakeLast(lines))
                : "(no server log was written)";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"(server log unreadable: {exception.Message})";
        }
    }

    private static async Task<ProcessResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        bool runAsPostgres,
        string workingDirectory,
        TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo
        {
            FileName = runAsPostgres ? RunUserPath() : fileName,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // The postgres user may not be able to enter the test runner's current folder.
            WorkingDirectory = workingDirectory,
        };
        if (runAsPostgres)
        {
            foreach (var argument in new[] { "-u", PostgresUser, "--", fileName })
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = string.Join(' ', startInfo.ArgumentList.Prepend(startInfo.FileName));
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException($"Could not run `{commandLine}`: {exception.Message}", exception);
        }

        var standardOutput = process.StandardOutput.ReadToEndAsync();
        var standardError = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited after all.
            }

            throw new TimeoutException(
                $"`{commandLine}` did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
        }

        return new ProcessResult(commandLine, process.ExitCode, await standardOutput, await standardError);
    }

    private static string RunUserPath() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser" }.FirstOrDefault(File.Exists) ?? "runuser";

    private sealed record Cluster(
        string BinDirectory,
        string Root,
        string Data,
        string SocketDirectory,
        string LogFile,
        bool RunAsPostgres)
    {
        public int Port { get; set; }

        public bool DurableCommits { get; init; }
    }

    private sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
    {
        public string Describe() =>
            $"`{CommandLine}` exited with code {ExitCode.ToString(CultureInfo.InvariantCulture)}." +
            Section("stderr", StandardError) + Section("stdout", StandardOutput);

        public void ThrowIfFailed(string what, string? serverLog = null)
        {
            if (ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{what} failed, so the tests cannot start their PostgreSQL cluster: {Describe()}" +
                    (serverLog is null ? string.Empty : Section("server log (tail)", serverLog)) +
                    $"{Environment.NewLine}Fix the cause above, or set {ConnectionStringVariable} to the connection string of a running server.");
            }
        }

        private static string Section(string title, string text) =>
            string.IsNullOrWhiteSpace(text) ? string.Empty : $"{Environment.NewLine}{title}:{Environment.NewLine}{text.TrimEnd()}";
    }
}
