using System.Diagnostics;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;

#pragma warning disable FANOUT0001 // The library's own use of its experimental state-change seam.

namespace FanOut.Hangfire.Flow;

/// <summary>
/// Decides when each limited job becomes runnable. A job arriving (dispatched, retried, requeued) takes a slot if one is
/// free and nobody of its key waits ahead of it, else it waits in storage (<see cref="FanOutWaitingState"/>). A job
/// leaving its call (succeeded, failed, scheduled for retry, deleted) lets its slot go and releases the next waiting job
/// (oldest first within a key, round-robin across keys) in the same storage transaction as its own state change, under
/// its limit's lock, held until that transaction has committed (<see cref="FlowScope"/>). A throttled start that is not
/// due yet parks the job until it is (<see cref="ReleaseDue"/>).
/// </summary>
internal sealed partial class FlowControl(
    FanOutRegistry registry,
    HangfireServices hangfire,
    FlowLocks locks,
    CallRegistry calls,
    IJobCancellation cancellations,
    Pauses pauses,
    TimeProvider time,
    ILogger<FlowControl> logger,
    IFanOutStateChangeWriter stateChanges) : IJobFlow
{
    // How many waiting jobs one state change may release: more than one only after a limit was raised.
    private const int MaxReleasesPerChange = 1_000;

    private readonly FlowOrder _order = new(time);

    public FlowLocks Locks => locks;

    /// <summary>Raised when a job is parked for a throttled start, with when it is due, so this process's timer starts it on time.</summary>
    public event Action<DateTimeOffset>? Parked;

    // ---- Dispatch -------------------------------------------------------------------------------------------------

    /// <summary>
    /// The state a newly dispatched job of <paramref name="handler"/> starts in: Enqueued when it may run now (null),
    /// else waiting for a slot or a throttled start, or Failed when its key cannot be computed. Called with the chunk's
    /// scope open, in the chunk's transaction.
    /// </summary>
    public IState? Arrive(FlowScope scope, IWriteOnlyTransaction transaction, string jobId, RegisteredHandler handler, string itemKey, string itemJson)
    {
        var limit = handler.Limit!;
        var keys = limit.KeysOf(handler.Id, itemKey, itemJson);
        if (keys.Problem is { } problem)
        {
            return Unkeyable(problem);
        }

        var view = ViewOf(scope, limit.Budget);
        var state = Arrive(view, transaction, jobId, keys, time.GetUtcNow(), atDispatch: true);
        view.Flush(transaction);
        return state;
    }

    /// <summary>After a chunk committed: releases what the limits of its handlers allow, in a transaction of its own.</summary>
    public void AfterChunk(FlowScope scope)
    {
        foreach (var view in scope.Views)
        {
            try
            {
                using var transaction = view.Connection.CreateWriteTransaction();
                if (Fill(scope, view, transaction, time.GetUtcNow()) > 0)
                {
                    view.Flush(transaction);
                    transaction.Commit();
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The chunk committed; the sweep releases what this could not.
                LogFillFailed(ex, view.Limit.Name);
            }
        }
    }

    public FlowScope EnterScope() => FlowScope.Enter(locks);

    // ---- State changes of limited jobs ---------------------------------------------------------------------------

    public void OnStateElection(ElectStateContext context, ItemJobArgs job)
    {
        if (registry.FindHandler(job.HandlerId) is not { } handler)
        {
            return;
        }

        var jobId = context.BackgroundJob.Id;
        var candidate = context.CandidateState;
        if (FlowScope.Current?.IsSettingState(jobId) == true || FanOutWaitingState.IsWaiting(candidate.Name))
        {
            return;
        }

        // The common case, a handler with no limit that is not paused, decides nothing and reads nothing.
        var paused = pauses.IsHandlerPaused(handler.Id);
        if (handler.Limit is not { } limit)
        {
            if (paused && candidate is EnqueuedState or ProcessingState)
            {
                context.CandidateState = FanOutWaitingState.ForPause(handler.Id);
            }

            return;
        }

        // A job waiting for its paused handler holds nothing of its limit; one waiting for the limit is in its line.
        var waiting = FanOutWaitingState.IsWaiting(context.CurrentState) ? context.Connection.GetStateData(jobId) : null;
        var waitsForPause = FanOutWaitingState.PausedHandlerOf(waiting?.Data) is not null;
        var limitWaiting = waitsForPause ? null : waiting;
        var budget = limit.Budget;
        if (paused && candidate is EnqueuedState or ProcessingState)
        {
            // Dispatched earlier, requeued, fetched by a worker or retried while its handler is paused: it waits for the
            // resume, and lets go of its place in the limit's line or of its slot.
            context.CandidateState = FanOutWaitingState.ForPause(handler.Id);
            if (!waitsForPause && (limitWaiting is not null || budget.LimitsConcurrency))
            {
                ElectLeaving(context, job, handler, limitWaiting);
            }

            return;
        }

        if (waitsForPause && candidate is not EnqueuedState)
        {
            return;
        }

        // From here on, a job released after its handler's pause arrives afresh, as a job just dispatched would.
        if (candidate is ProcessingState)
        {
            if (limitWaiting is null)
            {
                ElectProcessing(context, job, handler);
            }

            return;
        }

        if (candidate is EnqueuedState)
        {
            ElectEnqueued(context, job, handler, limitWaiting);
        }
        else if (limitWaiting is not null || budget.LimitsConcurrency)
        {
            ElectLeaving(context, job, handler, limitWaiting);
        }
    }

    public void OnPerforming(string jobId, ItemJobArgs job, string serverId)
    {
        if (registry.FindHandler(job.HandlerId)?.Limit is { Budget.LimitsConcurrency: true })
        {
            calls.Started(jobId, serverId);
        }
    }

    public void OnPerformed(string jobId, ItemJobArgs job)
    {
        if (registry.FindHandler(job.HandlerId)?.Limit is { Budget.LimitsConcurrency: true })
        {
            calls.Ended(jobId, time.GetUtcNow());
        }
    }

    /// <summary>
    /// On a worker. The usual case, from Enqueued with its slot (and its throttled start taken at arrival), needs
    /// nothing. A job fetched from Scheduled (Hangfire moves a retry of a job with a queue straight to the queue, not
    /// through Enqueued) arrives here: it takes a slot and a throttled start, or waits. A job fetched again (Processing to
    /// Processing, after its worker died or its keep-alive failed) may have another change of its own running at the same
    /// time, if the storage let Hangfire's job lock expire; and a job enqueued by a path that bypassed the limit has no
    /// slot. All of these are decided under the limit's lock, on what has committed. A job that ends up waiting is left by
    /// its worker, as Hangfire leaves any job a filter moved elsewhere.
    /// </summary>
    private void ElectProcessing(ElectStateContext context, ItemJobArgs job, RegisteredHandler handler)
    {
        var limit = handler.Limit!;
        var budget = limit.Budget;
        var jobId = context.BackgroundJob.Id;
        var fromQueue = IsCurrently(context, EnqueuedState.StateName);
        var again = IsCurrently(context, ProcessingState.StateName);
        if ((fromQueue || again) && !budget.LimitsConcurrency)
        {
            return;
        }

        var keys = limit.KeysOf(handler.Id, job.ItemKey, job.ItemJson);
        var key = keys.Problem is null ? keys.Concurrency : null;
        if (fromQueue && context.Connection is JobStorageConnection connection
            && SlotRecord.HeldKey(connection.GetAllItemsFromSet, budget.StorageId, budget.ConcurrencyLimitPerKey is not null, jobId, key) is not null)
        {
            return;
        }

        using var scope = EnterScope();
        var view = ViewOf(scope, budget);
        if (budget.LimitsConcurrency && (fromQueue || again) && view.HeldKey(jobId, key) is not null)
        {
            return;
        }

        if (keys.Problem is { } problem)
        {
            context.CandidateState = Unkeyable(problem);
            return;
        }

        // From the queue or fetched again, its throttled start was taken when it arrived.
        if (Arrive(view, context.Transaction, jobId, keys, time.GetUtcNow(), throttle: !fromQueue && !again) is { } state)
        {
            context.CandidateState = state;
        }

        view.Flush(context.Transaction);
    }

    private void ElectEnqueued(ElectStateContext context, ItemJobArgs job, RegisteredHandler handler, StateData? waiting)
    {
        var limit = handler.Limit!;
        var jobId = context.BackgroundJob.Id;
        var transaction = context.Transaction;
        if (waiting is not null)
        {
            // Requeued while it waits: it keeps its place (and its slot, when parked for a throttled start).
            if (FanOutWaitingState.IsWaiting(waiting.Name))
            {
                var (key, due) = FanOutWaitingState.Read(waiting.Data);
                context.CandidateState = new FanOutWaitingState(limit.Budget.StorageId, key, due, waiting.Reason ?? string.Empty);
            }

            return;
        }

        var keys = limit.KeysOf(handler.Id, job.ItemKey, job.ItemJson);
        if (keys.Problem is { } problem)
        {
            context.CandidateState = Unkeyable(problem);
            return;
        }

        using var scope = EnterScope();
        var view = ViewOf(scope, limit.Budget);
        var now = time.GetUtcNow();
        if (limit.Budget.LimitsConcurrency && HoldsSlotIn(context) && view.HeldKey(jobId, keys.Concurrency) is { } heldKey)
        {
            if (!IsCurrently(context, ProcessingState.StateName))
            {
                // Requeued while enqueued: it keeps the slot it has.
                return;
            }

            if (calls.TakeEnded(jobId))
            {
                // Enqueued again by its own worker once its call ended (a retry with no delay): it lets its slot go and
                // waits for one again, behind the jobs already waiting.
                view.Free(transaction, jobId, heldKey);
                Fill(scope, view, transaction, now);
            }
            else
            {
                // Requeued while its call runs: that call keeps the slot until it returns, and the job arrives anew.
                view.Orphan(transaction, jobId, heldKey, SlotRecord.Orphan(jobId, ServerOf(context.Connection, jobId), heldKey), now);
            }
        }

        if (Arrive(view, transaction, jobId, keys, now) is { } state)
        {
            context.CandidateState = state;
        }

        view.Flush(transaction);
    }

    private void ElectLeaving(ElectStateContext context, ItemJobArgs job, RegisteredHandler handler, StateData? waiting)
    {
        var limit = handler.Limit!;
        var budget = limit.Budget;
        var jobId = context.BackgroundJob.Id;
        var transaction = context.Transaction;
        var now = time.GetUtcNow();
        if (waiting is not null)
        {
            // Deleted (or otherwise moved on) while it waited for a slot or for its start.
            var (key, due) = FanOutWaitingState.Read(waiting.Data);
            using var waitingScope = EnterScope();
            var waitingView = ViewOf(waitingScope, budget);
            if (due is not null)
            {
                transaction.RemoveFromSet(StorageKeys.FlowDue, jobId);
                if (budget.LimitsConcurrency && waitingView.HeldKey(jobId, key) is { } parked)
                {
                    waitingView.Free(transaction, jobId, parked);
                    Fill(waitingScope, waitingView, transaction, now);
                }
            }
            else
            {
                waitingView.RemoveWaiting(transaction, jobId, key);
            }

            waitingView.Flush(transaction);
            return;
        }

        // Only an admitted job, enqueued or processing, holds a slot; which key's, its key's running set says.
        if (!HoldsSlotIn(context))
        {
            return;
        }

        var keys = limit.KeysOf(handler.Id, job.ItemKey, job.ItemJson);
        using var scope = EnterScope();
        var view = ViewOf(scope, budget);
        if (view.HeldKey(jobId, keys.Problem is null ? keys.Concurrency : null) is not { } held)
        {
            return;
        }

        if (IsCurrently(context, ProcessingState.StateName) && !calls.TakeEnded(jobId))
        {
            // Deleted or moved on from outside while its call may still run: the slot stays taken until the call returns.
            view.Orphan(transaction, jobId, held, SlotRecord.Orphan(jobId, ServerOf(context.Connection, jobId), held), now);
        }
        else
        {
            view.Free(transaction, jobId, held);
            Fill(scope, view, transaction, now);
        }

        view.Flush(transaction);
    }

    // ---- Shared steps --------------------------------------------------------------------------------------------

    private IState? Arrive(BudgetView view, IWriteOnlyTransaction transaction, string jobId, LimitKeys keys, DateTimeOffset now, bool atDispatch = false, bool throttle = true)
    {
        var budget = view.Limit;
        var key = view.Keyed ? keys.Concurrency : string.Empty;
        if (budget.LimitsConcurrency)
        {
            if (!view.CanAdmit(key))
            {
                view.AddWaiting(transaction, jobId, key);
                FanOutTelemetry.JobsWaited.Add(1, FanOutTelemetry.Tag("fanout.limit", budget.Name));
                Activity.Current?.AddEvent(new ActivityEvent("fanout.wait"));
                return FanOutWaitingState.ForSlot(budget.Name, budget.StorageId, key);
            }

            view.Admit(transaction, jobId, key);
        }

        return budget.Throttles && throttle ? StartOrPark(view, transaction, jobId, key, keys.Throttle, now, atDispatch) : null;
    }

    /// <summary>
    /// Reserves the job's throttled start: null to start now, else the parked state until it is due. A start due now at
    /// dispatch is parked too, due at once, so the timer releases it once the chunk has committed and records when: a
    /// chunk commits some time after its jobs are decided, and the next start of the key is spaced from the real release.
    /// </summary>
    private IState? StartOrPark(BudgetView view, IWriteOnlyTransaction transaction, string jobId, string key, string throttleKey, DateTimeOffset now, bool atDispatch = false)
    {
        var start = view.ReserveStart(throttleKey, now);
        if (start <= now && !atDispatch)
        {
            view.Released(throttleKey, now);
            return null;
        }

        if (start < now)
        {
            start = now;
        }

        transaction.AddToSet(StorageKeys.FlowDue, jobId, start.ToUnixTimeMilliseconds());
        Parked?.Invoke(start);
        return FanOutWaitingState.ForStart(view.Limit.Name, view.Limit.StorageId, key, throttleKey, start);
    }

    /// <summary>Releases waiting jobs into the free slots, in fair order; returns how many.</summary>
    private int Fill(FlowScope scope, BudgetView view, IWriteOnlyTransaction transaction, DateTimeOffset now)
    {
        var released = 0;
        for (var looks = 0; released < MaxReleasesPerChange && looks < MaxReleasesPerChange * 4 && view.HasFreeSlot; looks++)
        {
            string key;
            if (view.Keyed)
            {
                if (view.NextReadyKey() is not { } next)
                {
                    break;
                }

                key = next;
                if (view.RunningOf(key) >= view.Limit.ConcurrencyLimitPerKey!.Value || !view.HasWaiting(key))
                {
                    view.RemoveReadyKey(key);
                    continue;
                }
            }
            else
            {
                key = string.Empty;
            }

            if (view.OldestWaiting(key) is not { } jobId)
            {
                if (!view.Keyed)
                {
                    break;
                }

                view.RemoveReadyKey(key);
                continue;
            }

            var outcome = Release(scope, view, transaction, jobId, key, now);
            if (outcome == Released.Yes)
            {
                released++;
            }
            else if (outcome == Released.Cancelled)
            {
                // A cancelled run's jobs are in line: its cancel deletes them many at a time, and fills the slots after.
                break;
            }

            if (view.Keyed)
            {
                view.Served(key);
            }
        }

        return released;
    }

    /// <summary>Moves one waiting job to Enqueued (or parks it for its throttled start) in <paramref name="transaction"/>.</summary>
    private Released Release(FlowScope scope, BudgetView view, IWriteOnlyTransaction transaction, string jobId, string key, DateTimeOffset now)
    {
        view.RemoveWaiting(transaction, jobId, key);
        var data = view.Connection.GetJobData(jobId);
        if (data?.Job is null
            || !FanOutWaitingState.IsWaiting(data.State)
            || !ChildJobs.TryRead(data.Job, out var args)
            || registry.FindHandler(args.HandlerId) is not { Limit: { } limit } handler)
        {
            // Gone, or moved on by a path that bypassed the limit: nothing to release.
            return Released.No;
        }

        if (cancellations.IsCancelled(args.RunId))
        {
            // Its run was cancelled: it leaves the line, and the run's cancel deletes it (LeaveWaiting).
            return Released.Cancelled;
        }

        if (pauses.IsHandlerPaused(handler.Id))
        {
            // Its handler is paused: it leaves the limit's line for its handler's, holding no slot, and the slot goes on.
            Apply(scope, view.Connection, transaction, jobId, data, FanOutWaitingState.ForPause(handler.Id));
            return Released.No;
        }

        view.Admit(transaction, jobId, key);
        IState next = new EnqueuedState(data.Job.Queue ?? handler.Options.Queue) { Reason = $"A slot of {view.Limit.Name} is free" };
        if (view.Limit.Throttles)
        {
            var throttleKey = limit.HasThrottleKey ? limit.KeysOf(handler.Id, args.ItemKey, args.ItemJson).Throttle : string.Empty;
            next = StartOrPark(view, transaction, jobId, key, throttleKey, now) ?? next;
        }

        Apply(scope, view.Connection, transaction, jobId, data, next);
        return Released.Yes;
    }

    /// <summary>Moves a job out of its limit's line (a release, a throttled start come due) to <paramref name="state"/>.</summary>
    private void Apply(FlowScope scope, IStorageConnection connection, IWriteOnlyTransaction transaction, string jobId, JobData data, IState state)
    {
        using (scope.SettingState(jobId))
        using (LimitLineLeaves.Mark(jobId))
        {
            hangfire.StateMachine.ApplyState(new ApplyStateContext(
                hangfire.Storage,
                connection,
                transaction,
                new BackgroundJob(jobId, data.Job, data.CreatedAt, data.ParametersSnapshot),
                state,
                data.State));
        }
    }

    // ---- Cancel ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Moves the jobs of <paramref name="jobIds"/> still waiting for a slot of <paramref name="budget"/> (or parked for a
    /// throttled start) to <paramref name="state"/>, many in one transaction, under the limit's lock held until it has
    /// committed: each leaves the line (a parked one lets its slot go) as a job deleted while it waits does. Returns how
    /// many it moved; those no longer waiting are left as they are. The batch goes through the
    /// <see cref="IFanOutStateChangeWriter"/>, so a storage package can send its writes in a few statements; each attempt
    /// takes the lock and reads the limit afresh, so one whose commit failed leaves nothing behind.
    /// </summary>
    public int LeaveWaiting(RegisteredLimit budget, IReadOnlyList<string> jobIds, Func<IState> state)
    {
        var moved = 0;
        using var generic = hangfire.Storage.GetConnection();
        stateChanges.Write(new FanOutStateChanges(generic, jobIds, connection =>
        {
            moved = 0;
            using var scope = EnterScope();
            var view = ViewOf(scope, budget);
            using var transaction = connection.CreateWriteTransaction();
            foreach (var jobId in jobIds)
            {
                var data = connection.GetJobData(jobId);
                if (data?.Job is null || !FanOutWaitingState.IsWaiting(data.State))
                {
                    continue;
                }

                // Not marked as set by the library: the limit filter sees a waiting job leave, and does what that takes.
                hangfire.StateMachine.ApplyState(new ApplyStateContext(
                    hangfire.Storage,
                    connection,
                    transaction,
                    new BackgroundJob(jobId, data.Job, data.CreatedAt, data.ParametersSnapshot),
                    state(),
                    data.State));
                moved++;
            }

            // Slots a release left free when it met this run's jobs in line go to the jobs behind them.
            Fill(scope, view, transaction, time.GetUtcNow());
            view.Flush(transaction);
            transaction.Commit();
        }));

        return moved;
    }

    // ---- Timers: throttled starts and the sweep ------------------------------------------------------------------

    /// <summary>
    /// Starts the parked jobs whose throttled start is due; returns whether any more are parked within a second. With no
    /// burst allowed, a start is also kept one interval after its key's last release (one released late, by a busy
    /// storage or a chunk's commit, pushes the next one back), so releases of a key are never closer than the interval.
    /// </summary>
    public bool ReleaseDue()
    {
        var now = time.GetUtcNow();
        using var connection = hangfire.Storage.GetConnection();
        var storage = (JobStorageConnection)connection;
        var due = storage.GetFirstByLowestScoreFromSet(StorageKeys.FlowDue, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), 200);
        foreach (var group in due.Select(jobId => (JobId: jobId, Data: connection.GetJobData(jobId))).GroupBy(j => LimitOf(j.Data)))
        {
            using var scope = EnterScope();
            var view = group.Key is { } limit ? ViewOf(scope, limit) : null;
            var target = view?.Connection ?? connection;
            using var transaction = target.CreateWriteTransaction();
            foreach (var (jobId, _) in group)
            {
                // Read again under the lock: it may have been deleted or requeued since.
                var data = target.GetJobData(jobId);
                if (view is null || data?.Job is null || !FanOutWaitingState.IsWaiting(data.State)
                    || FanOutWaitingState.Read(target.GetStateData(jobId)?.Data).Due is null
                    || !ChildJobs.TryRead(data.Job, out var args) || registry.FindHandler(args.HandlerId) is not { Limit: { } handlerLimit } handler)
                {
                    transaction.RemoveFromSet(StorageKeys.FlowDue, jobId);
                    continue;
                }

                if (cancellations.IsCancelled(args.RunId))
                {
                    // Deleted here rather than started: the limit filter sees it leave, and lets its slot go.
                    hangfire.StateMachine.ApplyState(new ApplyStateContext(
                        hangfire.Storage, target, transaction, new BackgroundJob(jobId, data.Job, data.CreatedAt, data.ParametersSnapshot), cancellations.Deleted(args.RunId), data.State));
                    continue;
                }

                var throttleKey = handlerLimit.HasThrottleKey ? handlerLimit.KeysOf(handler.Id, args.ItemKey, args.ItemJson).Throttle : string.Empty;
                if (view.Limit.ThrottleBurst == 1 && view.LastRelease(throttleKey) is { } last && last + view.Limit.ThrottleInterval > now)
                {
                    var later = last + view.Limit.ThrottleInterval;
                    transaction.AddToSet(StorageKeys.FlowDue, jobId, later.ToUnixTimeMilliseconds());
                    Parked?.Invoke(later);
                    continue;
                }

                transaction.RemoveFromSet(StorageKeys.FlowDue, jobId);
                view.Released(throttleKey, now);
                Apply(scope, target, transaction, jobId, data, new EnqueuedState(data.Job.Queue ?? handler.Options.Queue) { Reason = "Its throttled start is due" });
            }

            view?.Flush(transaction);
            transaction.Commit();
        }

        return storage.GetFirstByLowestScoreFromSet(StorageKeys.FlowDue, double.NegativeInfinity, now.AddSeconds(1).ToUnixTimeMilliseconds(), 1).Count > 0;
    }

    /// <summary>
    /// Looks after every limit: frees the slots of orphaned calls that have ended (or whose server is gone), and
    /// releases waiting jobs into slots left free by changes made outside the library's state changer.
    /// </summary>
    public void Sweep()
    {
        HashSet<string>? liveServers = null;
        using var connection = hangfire.Storage.GetConnection();
        var storage = (JobStorageConnection)connection;
        calls.EndedBefore(time.GetUtcNow().AddMinutes(-1));
        foreach (var budget in registry.Limits.Where(l => l.LimitsConcurrency))
        {
            var id = budget.StorageId;
            var orphans = storage.GetAllItemsFromSet(StorageKeys.FlowOrphans(id));
            var waiting = storage.GetSetCount(StorageKeys.FlowWaiting(id));
            var freeSlot = budget.ConcurrencyLimit is not { } global || storage.GetSetCount(StorageKeys.FlowRunning(id)) < global;
            if (orphans.Count == 0 && !(waiting > 0 && freeSlot))
            {
                continue;
            }

            using var scope = EnterScope();
            var view = ViewOf(scope, budget);
            using var transaction = view.Connection.CreateWriteTransaction();
            var freed = 0;
            foreach (var orphan in orphans)
            {
                if (!SlotRecord.TryReadOrphan(orphan, out var jobId, out var serverId, out var key))
                {
                    transaction.RemoveFromSet(StorageKeys.FlowOrphans(id), orphan);
                    continue;
                }

                var ended = calls.IsOwnServer(serverId)
                    ? !calls.IsRunning(jobId)
                    : !(liveServers ??= LiveServers()).Contains(serverId);
                if (ended)
                {
                    view.FreeOrphan(transaction, orphan, key);
                    transaction.RemoveFromSet(StorageKeys.FlowOrphans(id), orphan);
                    freed++;
                }
            }

            var released = Fill(scope, view, transaction, time.GetUtcNow());
            view.Flush(transaction);
            transaction.Commit();
            if (freed + released > 0)
            {
                LogSwept(budget.Name, freed, released);
            }
        }
    }

    private enum Released
    {
        No,
        Yes,

        /// <summary>Not released: the job's run was cancelled.</summary>
        Cancelled,
    }

    private HashSet<string> LiveServers() =>
        hangfire.Storage.GetMonitoringApi().Servers().Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    private RegisteredLimit? LimitOf(JobData? data) =>
        data?.Job is not null && ChildJobs.TryRead(data.Job, out var args) ? registry.FindHandler(args.HandlerId)?.Limit?.Budget : null;

    private BudgetView ViewOf(FlowScope scope, RegisteredLimit budget) => scope.View(budget, hangfire.Storage.GetConnection, _order);

    // The states a job holds a slot in, once admitted (a job parked for its throttled start holds one too, which its
    // waiting state's data says).
    private static bool HoldsSlotIn(ElectStateContext context) =>
        IsCurrently(context, EnqueuedState.StateName) || IsCurrently(context, ProcessingState.StateName);

    private static bool IsCurrently(ElectStateContext context, string stateName) =>
        string.Equals(context.CurrentState, stateName, StringComparison.OrdinalIgnoreCase);

    private static string ServerOf(IStorageConnection connection, string jobId) =>
        connection.GetStateData(jobId)?.Data is { } data && data.TryGetValue("ServerId", out var serverId) ? serverId : "unknown";

    private static FailedState Unkeyable(string problem) =>
        new(new LimitKeyException(problem)) { Reason = "Its limit key could not be computed" };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limit {Limit}: releasing waiting jobs after a dispatched chunk failed; the sweep releases them within seconds")]
    private partial void LogFillFailed(Exception exception, string limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limit {Limit}: freed {Freed} slots of ended calls and released {Released} waiting jobs")]
    private partial void LogSwept(string limit, int freed, int released);
}
