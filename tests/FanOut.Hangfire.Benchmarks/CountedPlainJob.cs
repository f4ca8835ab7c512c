namespace FanOut.Hangfire.Benchmarks;

/// <summary>The end-to-end scenario's plain Hangfire job: does nothing for its item but count it (<see cref="HandledItems"/>).</summary>
public sealed class CountedPlainJob(HandledItems handled)
{
    public void Run(string item)
    {
        ArgumentNullException.ThrowIfNull(item);
        handled.Add(1);
    }
}
