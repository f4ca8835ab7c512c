using System.Diagnostics;
using System.Net;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Reliability;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Samples;

/// <summary>Starts the samples as a user does, and waits for them to answer.</summary>
internal static class SampleProcesses
{
    public const string WebSampleFolder = "samples/FanOut.Hangfire.Sample";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// <c>dotnet run --no-build -c {configuration} --project samples/FanOut.Hangfire.Sample</c> from the repository
    /// root, so its launch profile applies, as it does for a user. The sample was built with the tests.
    /// </summary>
    public static HostProcess RunWebSample(IReadOnlyDictionary<string, string> environment, ITestOutputHelper output)
    {
        var startInfo = new ProcessStartInfo("dotnet") { WorkingDirectory = BuildOutput.RepositoryRoot };
        foreach (var argument in new[] { "run", "--no-build", "-c", BuildOutput.Configuration, "--project", WebSampleFolder })
        {
            startInfo.ArgumentList.Add(argument);
        }

        // No MSBuild node may outlive the run, and the sample must not pick up addresses from the test run's environment.
        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        startInfo.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        startInfo.Environment.Remove("ASPNETCORE_HTTPS_PORTS");
        startInfo.Environment.Remove("ConnectionStrings__Hangfire");
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return HostProcess.Start("sample", startInfo, output);
    }

    /// <summary>Polls <paramref name="url"/> until it answers, failing if the process exits or the deadline passes.</summary>
    public static async Task<HttpStatusCode> WaitUntilAnswersAsync(HostProcess process, Uri url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(url);
                return response.StatusCode;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening there (yet): poll again.
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"The {process.Name} exited before {url} answered.{process.Tail()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{url} did not answer within {timeout.TotalSeconds:F0} s.{process.Tail()}");
            }

            await Task.Delay(PollInterval);
        }
    }
}
