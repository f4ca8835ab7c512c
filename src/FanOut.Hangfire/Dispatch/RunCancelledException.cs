namespace FanOut.Hangfire.Dispatch;

/// <summary>A dispatch found its run cancelled before writing its next chunk, and stopped: no retry, nothing more dispatched.</summary>
internal sealed class RunCancelledException(string runId)
    : Exception($"Run {runId} was cancelled; its dispatch stopped before its next chunk.")
{
    public string RunId { get; } = runId;
}
