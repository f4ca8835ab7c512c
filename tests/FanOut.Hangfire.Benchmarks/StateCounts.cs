using FanOut.Hangfire.Jobs;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>
/// A Hangfire state filter counting how often FanOut's child jobs were put on a queue (Enqueued) and taken by a worker
/// (Processing), in every state change Hangfire's state machine applies, the library's own releases included. Each
/// enqueue is a fetch to come; an enqueue or a fetch that did not end in a handler call is a bounce. Counted when the
/// state is applied, before its transaction commits, so a change that failed to commit counts too: the count can only
/// overstate the bounces.
/// </summary>
internal sealed class StateCounts : JobFilterAttribute, IApplyStateFilter
{
    private long _enqueued;
    private long _processing;

    public long Enqueued => Interlocked.Read(ref _enqueued);

    public long Processing => Interlocked.Read(ref _processing);

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.BackgroundJob.Job?.Type != typeof(FanOutItemJob))
        {
            return;
        }

        var name = context.NewState.Name;
        if (string.Equals(name, EnqueuedState.StateName, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _enqueued);
        }
        else if (string.Equals(name, ProcessingState.StateName, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _processing);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
