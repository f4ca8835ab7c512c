using System.Net;
using System.Text.RegularExpressions;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>The sample keeps the dashboard, Fan-out pages included, to requests from the machine it runs on.</summary>
[Collection(HangfireCollection.Name)]
public sealed partial class SampleDashboardTests
{
    [Fact]
    public void DashboardOptions_ByDefault_AllowLocalRequestsOnly() =>
        new DashboardOptions().Authorization.Should().ContainSingle().Which.Should().BeOfType<LocalRequestsOnlyAuthorizationFilter>();

    [Fact]
    public void Sample_MapsTheDashboardWithHangfireDefaultOptions()
    {
        var program = File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, "samples", "FanOut.Hangfire.Sample", "Program.cs"));

        var calls = DashboardCall().Matches(program);

        calls.Should().ContainSingle("the sample maps the dashboard once");
        calls[0].Groups["arguments"].Value.Should().BeEmpty("without options Hangfire keeps its local-requests-only filter");
        program.Should().NotContain("DashboardOptions").And.NotContain("IDashboardAuthorizationFilter");
    }

    [Fact]
    public void Sample_RegistersAntiforgery_SoTheDashboardChecksTokensOnPosts() =>
        File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, "samples", "FanOut.Hangfire.Sample", "Program.cs"))
            .Should().Contain("builder.Services.AddAntiforgery();");

    [Fact]
    public async Task DefaultDashboard_RequestsFromAnotherMachine_AreRefused()
    {
        await using var server = await DashboardServer.StartAsync(defaultDashboardOptions: true);
        using var client = new DashboardClient(server);
        var runId = await server.RunWithFailuresAsync();
        (string, string)[] remote = [(DashboardServer.SimulatedRemoteAddressHeader, "203.0.113.10")];

        var (local, _) = await client.GetAsync("/hangfire/fanout");
        var (remotePage, html) = await client.GetAsync("/hangfire/fanout", remote);
        var remotePost = await client.PostAsync(DashboardClient.RetryFailedPath(runId), remote);

        local.Should().Be(HttpStatusCode.OK);
        remotePage.Should().Be(HttpStatusCode.Unauthorized);
        html.Should().NotContain(DashboardServer.CronId);
        remotePost.Should().Be(HttpStatusCode.Unauthorized);
        await DashboardSecurityTests.ShouldHaveRequeuedNothingAsync(server, runId);
    }

    [GeneratedRegex(@"(?:Map|Use)HangfireDashboard\((?<arguments>[^)]*)\)")]
    private static partial Regex DashboardCall();
}
