using Hangfire.States;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// Hangfire's state changer, with a <see cref="FlowScope"/> around each change: the locks the limit filter takes while
/// deciding are let go only after the change's transaction has committed, so no other process reads a limit's state
/// between the decision and its commit. Registered in DI, it serves the Hangfire servers (workers, schedulers) and the
/// clients made by DI, the dashboard's included.
/// </summary>
internal sealed class FlowStateChanger(IBackgroundJobStateChanger inner, FlowLocks locks) : IBackgroundJobStateChanger
{
    public IState ChangeState(StateChangeContext context)
    {
        using var scope = FlowScope.Enter(locks);
        return inner.ChangeState(context);
    }
}
