namespace FanOut.Hangfire.Benchmarks.Infrastructure;

/// <summary>One timed run: so many jobs in so long, and, where measured, the CPU time they took (<see cref="ProcessCpu"/>).</summary>
internal readonly record struct Measurement(int Jobs, TimeSpan Elapsed, TimeSpan? Cpu = null)
{
    public double PerSecond => Jobs / Elapsed.TotalSeconds;

    /// <summary>The CPU time per job, in milliseconds, or null when not measured.</summary>
    public double? CpuPerJob => Cpu is { } cpu ? cpu.TotalMilliseconds / Jobs : null;
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

    /// <summary>
    /// The least CPU time per job over the runs (ms), or null when not measured: like time, CPU time is only ever raised
    /// by a busy machine (caches and cores shared), far less than time is.
    /// </summary>
    public double? LeastCpuPerJob => _runs.Min(r => r.CpuPerJob);

    public void Add(Measurement run)
    {
        _runs.Add(run);
        var cpu = run.CpuPerJob is { } perJob ? $", {Format.Plain(perJob, 3)} ms of CPU per job" : string.Empty;
        Console.WriteLine($"  {Label}: {Format.Count(run.Jobs)} jobs in {Format.Seconds(run.Elapsed)} = {Format.Rate(run.PerSecond)} jobs/s{cpu}");
    }
}
