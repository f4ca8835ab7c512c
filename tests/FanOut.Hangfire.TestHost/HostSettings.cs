namespace FanOut.Hangfire.TestHost;

/// <summary>
/// How a test wants this process to behave, bound from the <c>Host</c> configuration section (command-line arguments
/// such as <c>--Host:Workers=8</c>). The library's own options come from the <c>FanOut</c> section.
/// </summary>
internal sealed class HostSettings
{
    public const string SectionName = "Host";
    public const string GenericDispatch = "generic";
    public const string PostgreSqlDispatch = "postgresql";
    public const string TunedStorage = "tuned";
    public const string RecommendedStorage = "recommended";
    public const string DefaultStorage = "defaults";

    /// <summary>The test run that started this process; when it is gone, this process ends too.</summary>
    public int? ParentPid { get; set; }

    /// <summary>A cron fan-out to fire once the server runs, through its recurring job, as the schedule would.</summary>
    public string? Trigger { get; set; }

    /// <summary>
    /// How child jobs are written: <c>generic</c> (through Hangfire's storage API, for any storage) or <c>postgresql</c>
    /// (the fast path of FanOut.Hangfire.PostgreSql).
    /// </summary>
    public string Dispatch { get; set; } = GenericDispatch;

    /// <summary>Hangfire workers of this server.</summary>
    public int Workers { get; set; } = 4;

    /// <summary>Comma-separated queues this server listens to; a process can dispatch without running child jobs.</summary>
    public string Queues { get; set; } = $"{HostFanOuts.DispatchQueue},{HostFanOuts.ItemQueue}";

    /// <summary>How many handlers listen to the event: 1 (<c>first</c>) or 2 (<c>first</c> and <c>second</c>).</summary>
    public int Handlers { get; set; } = 1;

    /// <summary>How long each handler call works before it records that it finished; a batch handler, for each item.</summary>
    public TimeSpan HandlerDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// When set, handler <c>first</c> is a batch handler (<see cref="JournalBatchHandler"/>) of batches of at most this
    /// many items; when unset, an item handler (<see cref="JournalHandler"/>). Handler <c>second</c> stays an item handler.
    /// </summary>
    public int? BatchSize { get; set; }

    /// <summary>
    /// With a batch handler, every item whose number (<see cref="JournalSource"/>) is a multiple of this is marked failed in
    /// its call's first attempt, and succeeds in the next: a per-item failure, retried alone. None fails when 0.
    /// </summary>
    public int FailFirstAttemptEvery { get; set; }

    /// <summary>At most this many calls of each handler at once, across all servers; no limit when unset.</summary>
    public int? ConcurrencyLimit { get; set; }

    /// <summary>
    /// At most this many calls of each handler at once per key, across all servers; the key is the item's text before
    /// its first '-' (<see cref="HostFanOuts.KeyOf"/>). No limit when unset.
    /// </summary>
    public int? ConcurrencyLimitPerKey { get; set; }

    /// <summary>
    /// A folder where this process appends the start and the end of each handler call to a file of its own
    /// (<see cref="CallFile"/>); no such record when unset.
    /// </summary>
    public string? CallLog { get; set; }

    /// <summary>
    /// Which Hangfire.PostgreSql options the server runs with: <c>tuned</c> (the settings below, short enough for tests to
    /// see a dead server's jobs come back within seconds), <c>recommended</c> (what the README recommends: fetches kept
    /// alive, a 5-minute invisibility timeout, everything else the package's defaults) or <c>defaults</c> (the package's
    /// own: a 30-minute invisibility timeout, fetches not kept alive). The settings below apply to <c>tuned</c> only.
    /// </summary>
    public string Storage { get; set; } = TunedStorage;

    /// <summary>Hangfire.PostgreSql: how long a fetched job stays invisible to other workers without a keep-alive.</summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Hangfire.PostgreSql: whether a running job's fetch is kept alive, so only dead workers' jobs come back.</summary>
    public bool SlidingInvisibilityTimeout { get; set; } = true;

    /// <summary>Hangfire.PostgreSql: when a lock row left behind by a dead process expires.</summary>
    public TimeSpan DistributedLockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Hangfire.PostgreSql: how often each server folds the counter rows into totals.</summary>
    public TimeSpan CountersAggregateInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Hangfire.PostgreSql: how often an idle worker looks for a job.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The items each cron fan-out's source yields, by fan-out id.</summary>
    public Dictionary<string, SourceSettings> Sources { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> QueueList =>
        Queues.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public SourceSettings SourceOf(string fanOutId) => Sources.GetValueOrDefault(fanOutId) ?? new SourceSettings();
}

/// <summary>What one fan-out's source yields, and how slowly.</summary>
internal sealed class SourceSettings
{
    /// <summary>Items per firing.</summary>
    public int Items { get; set; } = 100;

    /// <summary>
    /// How many keys the items spread over, round-robin: item <c>n</c> is <c>{fanOutId}{n % Keys}-{n:D6}</c>. With 0, the
    /// default, every item is <c>{fanOutId}-{n:D6}</c>, all of one key.
    /// </summary>
    public int Keys { get; set; }

    /// <summary>A pause before every <see cref="FanOutOptions.ChunkSize"/> items: a source that takes its time.</summary>
    public TimeSpan ChunkDelay { get; set; } = TimeSpan.Zero;
}
