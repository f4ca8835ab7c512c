namespace FanOut.Hangfire.Benchmarks;

/// <summary>The baseline: a plain Hangfire job doing the same no-op work for one item, enqueued one by one.</summary>
public sealed class PlainJob
{
    public void Run(string item) => ArgumentNullException.ThrowIfNull(item);
}
