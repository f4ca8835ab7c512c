using Hangfire.Server;

namespace FanOut.Hangfire.Dispatch;

/// <summary>
/// Thrown by an execution of a dispatch that a newer execution of the same run took over (a retry, or Hangfire running
/// the job again after its invisibility timeout). Hangfire treats it as an abort: no state change and no retry, so the
/// two executions do not keep taking the job from each other; the newer one carries on from the last checkpoint.
/// </summary>
internal sealed class DispatchSupersededException(string message) : JobAbortedException
{
    public override string Message { get; } = message;
}
