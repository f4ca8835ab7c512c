namespace FanOut.Hangfire;

/// <summary>Options shared by every fan-out and event of the application.</summary>
public sealed class FanOutOptions
{
    /// <summary>
    /// Gets or sets how many items are read from a source and committed to storage at once, together with the
    /// dispatch checkpoint that makes dispatch exactly once.
    /// </summary>
    /// <value>The default value is 500. It must be between 1 and 10,000.</value>
    /// <remarks>Dispatch memory grows with the chunk, never with the number of items.</remarks>
    public int ChunkSize { get; set; } = 500;

    /// <summary>Gets or sets the largest item accepted, measured as the UTF-8 bytes of its JSON.</summary>
    /// <value>The default value is 32,768 bytes. It must be between 64 bytes and 1 MiB.</value>
    /// <remarks>Items are stored in every child job; keep them to IDs or a few fields and let the handler load the rest.</remarks>
    public int MaxItemBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// Gets or sets how long a dispatch holds its fan-out's lease without renewing it. A running dispatch renews it every
    /// third of this, from before it reads its source, and with every chunk it commits. It matters when a dispatching
    /// process dies: until the lease runs out no other dispatch of that fan-out starts, and once it has, a process that
    /// declares the fan-out resumes the interrupted run from its checkpoint within about 15 seconds, whatever the
    /// storage's own recovery time. Keep it longer than any pause a live process may take (garbage collection, a stalled
    /// storage call), since a dispatch whose lease ran out is taken for dead and resumed elsewhere.
    /// </summary>
    /// <value>The default value is 30 seconds. It must be between 5 seconds and 1 hour.</value>
    public TimeSpan DispatchLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many times Hangfire retries a dispatch that failed (a source that threw, storage that went away).</summary>
    /// <value>The default value is 10, Hangfire's own default.</value>
    public int DispatchRetryAttempts { get; set; } = 10;

    /// <summary>
    /// Gets or sets the delays between dispatch retries; the last one repeats. Empty means Hangfire's own
    /// growing back-off. Hangfire schedules retries with one-second precision.
    /// </summary>
    /// <value>The default value is empty (Hangfire's back-off).</value>
    public IList<TimeSpan> DispatchRetryDelays { get; } = [];

    /// <summary>
    /// Gets or sets how long a run's record, counts and failed-item list are kept after the run completes (counts: after
    /// their last change). Longer than Hangfire's default retention of succeeded jobs (1 day), so a run's record outlives
    /// the jobs it counts.
    /// </summary>
    /// <value>The default value is 7 days.</value>
    public TimeSpan RunRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets how often each process checks the open runs for completion. Completion handlers run at most this
    /// long after a run's last job ends.
    /// </summary>
    /// <value>The default value is 1 second. It must be between 100 milliseconds and 1 minute.</value>
    public TimeSpan CompletionCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets the Hangfire queue completion handlers' jobs run on (lowercase letters, digits, '_' and '-'). A
    /// Hangfire server must listen to it, or completions wait.
    /// </summary>
    /// <value>The default value is <c>default</c>.</value>
    public string CompletionQueue { get; set; } = "default";

    /// <summary>
    /// Gets or sets how long an idempotency key (<see cref="FanOutSendOptions.IdempotencyKey"/>) is remembered after the
    /// send or trigger that first used it: within it, the same key returns that run's id and sends nothing more.
    /// </summary>
    /// <value>The default value is 24 hours. It must be between 1 second and 365 days.</value>
    /// <remarks>
    /// A storage that caps expirations (Hangfire.InMemory: 3 hours by default) forgets keys at its cap, and says so at
    /// start-up.
    /// </remarks>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Gets what is kept of the lines each handler logs during a call: the lowest level, and how many lines and bytes one
    /// attempt keeps. Stored with the job, they expire with it.
    /// </summary>
    /// <value>The default keeps Information and above, up to 100 lines and 16 KiB per attempt.</value>
    public FanOutJobLogOptions JobLogs { get; } = new();
}
