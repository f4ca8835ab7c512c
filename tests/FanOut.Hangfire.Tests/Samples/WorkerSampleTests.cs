using System.Diagnostics;
using System.Text.Json;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Reliability;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Samples;

/// <summary>
/// The Worker Service sample runs a fan-out with no web server, on the .NET runtime alone: what a Worker Service needs
/// must not pull in ASP.NET Core.
/// </summary>
public sealed class WorkerSampleTests(ITestOutputHelper output)
{
    private const string ProjectFolder = "samples/FanOut.Hangfire.WorkerSample";
    private const string AssemblyName = "FanOut.Hangfire.WorkerSample";
    private const string NetCoreRuntime = "Microsoft.NETCore.App";
    private static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void WorkerSample_RuntimeConfig_NamesOnlyTheNetCoreRuntime()
    {
        var runtimeConfig = BuildOutput.PathOf(ProjectFolder, AssemblyName + ".runtimeconfig.json");

        var frameworks = FrameworksOf(runtimeConfig);

        frameworks.Should().Equal(
            [NetCoreRuntime],
            "a runtime-only container image (mcr.microsoft.com/dotnet/runtime) has no ASP.NET Core, so a Worker Service " +
            "that needs another shared framework does not start there ({0})",
            runtimeConfig);
    }

    [Fact]
    public async Task WorkerSample_Run_TriggersItsFanOutOnce_AndLogsTheCompletedRun()
    {
        var startInfo = new ProcessStartInfo("dotnet") { WorkingDirectory = BuildOutput.RepositoryRoot };
        startInfo.ArgumentList.Add(BuildOutput.PathOf(ProjectFolder, AssemblyName + ".dll"));
        await using var worker = HostProcess.Start("worker sample", startInfo, output);

        var triggered = await worker.WaitForLineAsync(
            line => line.Contains("Triggered invoice-reminders: run ", StringComparison.Ordinal), CompletionTimeout, "the trigger");
        var runId = triggered[(triggered.LastIndexOf(' ') + 1)..];
        var completed = await worker.WaitForLineAsync(
            line => line.Contains($"Run {runId} of invoice-reminders completed: ", StringComparison.Ordinal),
            CompletionTimeout,
            $"the completion of run {runId}");

        completed.Should().EndWith("completed: 5 reminders sent, 0 failed", "the source yields five customers and every reminder succeeds");
        worker.Lines.Count(line => line.Contains($"of an overdue invoice (run {runId})", StringComparison.Ordinal))
            .Should().Be(5, "each customer is reminded once");
    }

    // A runtimeconfig names one shared framework as "framework", or several as "frameworks".
    private static string[] FrameworksOf(string runtimeConfig)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var options = document.RootElement.GetProperty("runtimeOptions");
        IEnumerable<JsonElement> frameworks =
            options.TryGetProperty("frameworks", out var several) ? [.. several.EnumerateArray()]
            : options.TryGetProperty("framework", out var one) ? [one]
            : [];
        return [.. frameworks.Select(f => f.GetProperty("name").GetString()!)];
    }
}
