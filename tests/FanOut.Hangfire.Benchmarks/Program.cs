using FanOut.Hangfire.Benchmarks;
using FanOut.Hangfire.Benchmarks.Infrastructure;

BenchmarkOptions options;
try
{
    options = BenchmarkOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchmarkOptions.Usage);
    return 2;
}

switch (options.Command)
{
    case "dispatch":
        await DispatchBenchmark.RunAsync(options);
        return 0;
    case "execute":
        await ExecuteBenchmark.RunAsync(options);
        return 0;
    case "end-to-end":
        await EndToEndBenchmark.RunAsync(options);
        return 0;
    case "flow":
        await FlowBenchmark.RunAsync(options);
        return 0;
    case "scaling":
        await ScalingBenchmark.RunAsync(options);
        return 0;
    case "scaling-server":
        await ScalingBenchmark.RunServerAsync(options);
        return 0;
    case "cancel":
        await CancelBenchmark.RunAsync(options);
        return 0;
    case "memory":
        await MemoryBenchmark.RunAsync(options);
        return 0;
    case "memory-child":
        await MemoryBenchmark.RunChildAsync(options);
        return 0;
    default:
        Console.Error.WriteLine($"Unknown scenario '{options.Command}'.");
        Console.Error.WriteLine(BenchmarkOptions.Usage);
        return 2;
}
