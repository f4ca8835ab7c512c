namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>One timed run: so many jobs in so long.</summary>
internal readonly record struct Measurement(int Jobs, TimeSpan Elapsed)
{
    public double PerSecond => Jobs / Elapsed.TotalSeconds;
}

/// <summary>
/// The best of several runs of one measurement. The machine is shared and noise only ever slows a run down, so the
/// fastest run is the one closest to what the code costs.
/// </summary>
internal sealed class Best(string label)
{
    private readonly List<Measurement> _runs = [];

    public string Label { get; } = label;

    public Measurement Value => _runs.MaxBy(r => r.PerSecond);

    public int Runs => _runs.Count;

    public void Add(Measurement run)
    {
        _runs.Add(run);
        Console.WriteLine($"  {Label}: {Format.Count(run.Jobs)} jobs in {Format.Seconds(run.Elapsed)} = {Format.Rate(run.PerSecond)} jobs/s");
    }
}
