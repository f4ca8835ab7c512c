using System.Collections.Frozen;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Jobs;
using Hangfire.States;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// The runs this process knows are cancelled: those it cancelled itself, at once, and those read from
/// <c>fanout:cancelled-runs</c> every second (<c>Hosting.CancellationWatch</c>). Learning of a cancel fires the token
/// of each call of the run running here. A job of a cancelled run whose state change would let it run, or wait to, is
/// deleted instead. For a run not cancelled, the answer is a lookup in memory.
/// </summary>
internal sealed class CancelledRuns(RunningCalls calls) : IJobCancellation
{
    private FrozenSet<string> _known = FrozenSet<string>.Empty;

    public bool IsCancelled(string runId)
    {
        var known = Volatile.Read(ref _known);
        return known.Count > 0 && known.Contains(runId);
    }

    /// <summary>Takes the cancelled runs read from storage as the ones known; stops the calls of those new to this process.</summary>
    public void Learn(IReadOnlyCollection<string> cancelled)
    {
        var before = Volatile.Read(ref _known);
        Volatile.Write(ref _known, cancelled.ToFrozenSet(StringComparer.Ordinal));
        foreach (var runId in cancelled.Where(id => !before.Contains(id)))
        {
            calls.Cancel(runId);
        }
    }

    /// <summary>A run this process cancelled: known at once, and its calls here stopped unless <paramref name="stopCalls"/> is false.</summary>
    public void Add(string runId, bool stopCalls = true)
    {
        FrozenSet<string> before, after;
        do
        {
            before = Volatile.Read(ref _known);
            after = before.Contains(runId) ? before : before.Append(runId).ToFrozenSet(StringComparer.Ordinal);
        }
        while (!ReferenceEquals(Interlocked.CompareExchange(ref _known, after, before), before));

        if (stopCalls)
        {
            calls.Cancel(runId);
        }
    }

    public void OnStateElection(ElectStateContext context, ItemJobArgs job)
    {
        if (!IsCancelled(job.RunId) || !WouldRun(context.CandidateState))
        {
            return;
        }

        // A state the library sets itself (a dispatched job's first state, a release into a slot) was decided with the
        // limit's books already changed; those paths leave a cancelled run's jobs alone, and the cancel deletes them.
        if (FlowScope.Current?.IsSettingState(context.BackgroundJob.Id) == true)
        {
            return;
        }

        context.CandidateState = DeletedFor(job.RunId);
    }

    IState IJobCancellation.Deleted(string runId) => DeletedFor(runId);

    public static DeletedState DeletedFor(string runId) => new() { Reason = $"Run {runId} was cancelled" };

    // Enqueued, processing, scheduled for a retry, waiting for a slot: anything but an end. A call that failed because
    // its token fired ends deleted too; a failure of its own, with no retries left, stays failed.
    private static bool WouldRun(IState candidate) => candidate switch
    {
        SucceededState or DeletedState => false,
        FailedState failed => failed.Exception is OperationCanceledException,
        _ => true,
    };
}
