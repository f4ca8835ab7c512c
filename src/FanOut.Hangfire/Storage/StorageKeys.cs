namespace FanOut.Hangfire.Storage;

/// <summary>
/// Every key the library writes in Hangfire's storage, in one place. They are a stored contract, like the job
/// signatures: a run recorded, a lease held or a recurring job scheduled by one version is read by the next, so none of
/// them changes once released (a contract test pins each one). Ids and names never contain ':' (see
/// <c>Registration.Names</c>), so the parts cannot run into each other.
/// </summary>
internal static class StorageKeys
{
    /// <summary>The prefix of every recurring job the library owns; no other recurring job is ever touched.</summary>
    public const string RecurringJobPrefix = "fanout:";

    /// <summary>The set of runs that are not complete yet (or were reopened); the completion monitor watches them.</summary>
    public const string OpenRuns = "fanout:open-runs";

    /// <summary>The recurring job that fires a cron fan-out.</summary>
    public static string RecurringJob(string fanOutId) => RecurringJobPrefix + fanOutId;

    public static bool IsOwnedRecurringJob(string recurringJobId) => recurringJobId.StartsWith(RecurringJobPrefix, StringComparison.Ordinal);

    /// <summary>The hash holding a run's record (see <c>Runs.RunStore</c> for its fields).</summary>
    public static string Run(string runId) => "fanout:run:" + runId;

    /// <summary>The set of the ids of a run's jobs of one handler in one final state.</summary>
    public static string Outcome(string runId, string handlerId, string outcome) => $"fanout:run:{runId}:{handlerId}:{outcome}";

    /// <summary>The list of the recent runs of a cron fan-out (by id) or of an event's sends (by name), newest first.</summary>
    public static string RunList(string name) => "fanout:runs:" + name;

    /// <summary>The distributed lock taken to complete a run.</summary>
    public static string RunLock(string runId) => "fanout:run-lock:" + runId;

    /// <summary>The distributed lock taken to ask for the resume of a run whose dispatcher stopped, so one process asks.</summary>
    public static string ResumeLock(string runId) => "fanout:resume-lock:" + runId;

    /// <summary>
    /// The set of cancelled runs, scored by when they were cancelled (Unix milliseconds): every process reads it every
    /// second, to delete their jobs instead of running them and to stop their calls.
    /// </summary>
    public const string CancelledRuns = "fanout:cancelled-runs";

    /// <summary>The distributed lock taken to cancel a run and to delete its jobs, so one process deletes them at a time.</summary>
    public static string CancelLock(string runId) => "fanout:cancel-lock:" + runId;

    /// <summary>
    /// One of the two distributed locks a dispatch holds from a chunk's cancel check until that chunk has committed
    /// (chunks take them in turn, <paramref name="lane"/> 0 or 1, so a chunk can be written while the one before it
    /// commits); a cancel takes both to record itself, so no chunk checked before it commits after it.
    /// </summary>
    public static string ChunkLock(string runId, int lane) => $"fanout:chunk-lock:{runId}:{lane}";

    /// <summary>The hash naming the execution that holds a cron fan-out's dispatch lease, and until when.</summary>
    public static string Lease(string fanOutId) => "fanout:lease:" + fanOutId;

    /// <summary>
    /// The hash naming the one firing of a cron fan-out with <c>Overlap = BufferOne</c> that waits for its lease, and until
    /// when the place is held (renewed while it waits); read and changed under the lease's lock.
    /// </summary>
    public static string LeaseBuffer(string fanOutId) => "fanout:lease-buffer:" + fanOutId;

    /// <summary>The distributed lock taken to read and change a lease.</summary>
    public static string LeaseLock(string fanOutId) => "fanout:lease-lock:" + fanOutId;

    // Pauses (Flow/PauseStore, Flow/PausedJobs): what is paused, since when, and the jobs waiting because of it.

    /// <summary>The set of what is paused through the API: members <c>cron:{fanOutId}</c> and <c>handler:{handlerId}</c>.</summary>
    public const string Paused = "fanout:paused";

    /// <summary>The member of <see cref="Paused"/> for a cron fan-out.</summary>
    public static string PausedCron(string fanOutId) => "cron:" + fanOutId;

    /// <summary>The member of <see cref="Paused"/> for a handler.</summary>
    public static string PausedHandler(string handlerId) => "handler:" + handlerId;

    /// <summary>The hash of one pause (field <c>PausedAt</c>), named by its member of <see cref="Paused"/>.</summary>
    public static string Pause(string member) => "fanout:pause:" + member;

    /// <summary>The distributed lock taken to pause or resume anything, so a pause keeps its first time.</summary>
    public const string PauseLock = "fanout:pause-lock";

    /// <summary>The set of a handler's jobs waiting because it is paused, scored by their creation (Unix milliseconds).</summary>
    public static string PausedJobs(string handlerId) => "fanout:paused-jobs:" + handlerId;

    /// <summary>The distributed lock taken to release a resumed handler's waiting jobs, so one process releases them in order.</summary>
    public static string PauseReleaseLock(string handlerId) => "fanout:pause-release-lock:" + handlerId;

    /// <summary>
    /// The hash recording which run an idempotency key of a send (per event name) or trigger (per cron fan-out id) started,
    /// and when. Event names and cron fan-out ids never coincide, and the key (any text of at most 200 characters) is last.
    /// </summary>
    public static string Idempotency(string name, string key) => $"fanout:idempotency:{name}:{key}";

    /// <summary>The distributed lock taken while an idempotency key is read and its run recorded, so racing sends make one run.</summary>
    public static string IdempotencyLock(string name, string key) => $"fanout:idempotency-lock:{name}:{key}";

    // Flow control (Flow/): the state of each limit, named by its storage id (handler:{id} or limit:{name}); a key is
    // the user's concurrency key, any string of at most 200 characters, always last in the key it is part of.

    /// <summary>The set of jobs holding a slot of a limit (admitted: enqueued, processing, or parked for their start).</summary>
    public static string FlowRunning(string limit) => $"fanout:flow:{limit}:running";

    /// <summary>The set of jobs holding a slot of a limit for one concurrency key.</summary>
    public static string FlowRunningOfKey(string limit, string key) => $"fanout:flow:{limit}:running-of:{key}";

    /// <summary>The set of jobs waiting for a slot of a limit, scored by arrival order.</summary>
    public static string FlowWaiting(string limit) => $"fanout:flow:{limit}:waiting";

    /// <summary>The set of jobs of one concurrency key waiting for a slot, scored by arrival order.</summary>
    public static string FlowWaitingOfKey(string limit, string key) => $"fanout:flow:{limit}:waiting-of:{key}";

    /// <summary>The set of concurrency keys with jobs waiting, whether or not a slot of theirs is free.</summary>
    public static string FlowWaitingKeys(string limit) => $"fanout:flow:{limit}:waiting-keys";

    /// <summary>The set of concurrency keys with jobs waiting and a slot of their own free, scored by their turn.</summary>
    public static string FlowReadyKeys(string limit) => $"fanout:flow:{limit}:ready-keys";

    /// <summary>
    /// The hash of a limit's throttle: for each throttle key, when its next release is due, when its last one was made,
    /// and when its next call may start (Unix milliseconds).
    /// </summary>
    public static string FlowThrottle(string limit) => $"fanout:flow:{limit}:throttle";

    /// <summary>The set of slots still held by calls whose job was deleted or requeued while they ran, scored by when.</summary>
    public static string FlowOrphans(string limit) => $"fanout:flow:{limit}:orphans";

    /// <summary>The set of jobs parked until their throttled start, scored by when it is due (Unix milliseconds).</summary>
    public const string FlowDue = "fanout:flow-due";

    /// <summary>
    /// A batch job's items that have an outcome of their own while the job goes on (a hash: <c>ok:{index}</c> for an
    /// item that succeeded, <c>error:{index}</c> for the last failure of one that did not), so a retry hands the handler
    /// only the items still to do.
    /// </summary>
    public static string BatchProgress(string jobId) => "fanout:batch:" + jobId;

    /// <summary>The distributed lock held while a limit's state is read and changed, until the change commits.</summary>
    public static string FlowLock(string limit) => "fanout:flow-lock:" + limit;

    /// <summary>
    /// The name <see cref="FlowLock"/> is given for the lock held while a throttled call reserves its start
    /// (<c>fanout:flow-lock:starts:{limit}</c>): apart from the limit's own, so a start never waits for a state change.
    /// </summary>
    public static string FlowStartsLockName(string limit) => "starts:" + limit;
}
