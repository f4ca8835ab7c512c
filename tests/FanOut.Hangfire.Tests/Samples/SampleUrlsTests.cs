using System.Globalization;
using System.Net;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Samples;

/// <summary>The sample listens where the user says, through its launch profile, as <c>dotnet run</c> starts it.</summary>
public sealed class SampleUrlsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sample_RunWithItsLaunchProfile_ListensOnTheAddressInAspNetCoreUrls()
    {
        var address = $"http://127.0.0.1:{LoopbackPort.Free().ToString(CultureInfo.InvariantCulture)}";
        await using var sample = SampleProcesses.RunWebSample(
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = address },
            output);

        var status = await SampleProcesses.WaitUntilAnswersAsync(sample, new Uri(address + "/hangfire"), StartTimeout);

        status.Should().Be(HttpStatusCode.OK, "the dashboard answers local requests");
    }
}
