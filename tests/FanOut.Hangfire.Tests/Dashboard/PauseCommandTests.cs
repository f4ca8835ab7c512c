using System.Net;
using FanOut.Hangfire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// The Pause and Resume buttons of the Fan-out page honour the dashboard's authorization filters and antiforgery, as
/// Retry failed does (design.md invariant 16), and the page says what is paused, since when, and by what.
/// </summary>
[Collection(HangfireCollection.Name)]
public sealed class PauseCommandTests
{
    private const string ListPath = "/hangfire/fanout";

    public static TheoryData<string, string> Targets => new()
    {
        { "crons", DashboardServer.CronId },
        { "handlers", DashboardServer.CheckHandlerId },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task PauseThenResume_WithTheAntiforgeryToken_PausesAndResumes(string target, string id)
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        var (header, token) = await client.GetAntiforgeryAsync(ListPath);

        var paused = await client.PostAsync(PathOf(target, id, "pause"), [(header, token)]);

        paused.Should().Be(HttpStatusCode.NoContent);
        (await PausedAsync(server)).Should().ContainSingle().Which.Id.Should().Be(id);
        var (_, html) = await client.GetAsync(ListPath);
        html.Should().Contain(PathOf(target, id, "resume")).And.NotContain(PathOf(target, id, "pause"));

        var resumed = await client.PostAsync(PathOf(target, id, "resume"), [(header, token)]);

        resumed.Should().Be(HttpStatusCode.NoContent);
        (await PausedAsync(server)).Should().BeEmpty();
    }

    [Fact]
    public async Task Pause_WithoutTheAntiforgeryToken_IsRefusedAndPausesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        await client.GetAntiforgeryAsync(ListPath); // the cookie half alone is not enough

        var status = await client.PostAsync(PathOf("handlers", DashboardServer.CheckHandlerId, "pause"));

        ((int)status).Should().BeInRange(400, 499);
        (await PausedAsync(server)).Should().BeEmpty();
    }

    [Fact]
    public async Task Pause_WithAnotherSessionsAntiforgeryToken_IsRefusedAndPausesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var attacker = new DashboardClient(server);
        using var victim = new DashboardClient(server);
        var (header, token) = await attacker.GetAntiforgeryAsync(ListPath);
        await victim.GetAntiforgeryAsync(ListPath);

        var status = await victim.PostAsync(PathOf("crons", DashboardServer.CronId, "pause"), [(header, token)]);

        ((int)status).Should().BeInRange(400, 499);
        (await PausedAsync(server)).Should().BeEmpty();
    }

    [Fact]
    public async Task Resume_WhenTheAuthorizationFilterRefuses_IsRefusedAndResumesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);
        await Control(server).PauseHandlerAsync(DashboardServer.CheckHandlerId);
        var (header, token) = await client.GetAntiforgeryAsync(ListPath);
        server.Access.Allow = false;
        var judged = server.Access.Judged;

        var status = await client.PostAsync(PathOf("handlers", DashboardServer.CheckHandlerId, "resume"), [(header, token)]);

        status.Should().BeOneOf(HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden);
        server.Access.Judged.Should().BeGreaterThan(judged, "the dashboard's filter judged the request");
        (await PausedAsync(server)).Should().ContainSingle();
    }

    [Fact]
    public async Task Pause_ByGet_IsNotAllowedAndPausesNothing()
    {
        await using var server = await DashboardServer.StartAsync();
        using var client = new DashboardClient(server);

        var (status, _) = await client.GetAsync(PathOf("handlers", DashboardServer.CheckHandlerId, "pause"));

        status.Should().Be(HttpStatusCode.MethodNotAllowed);
        (await PausedAsync(server)).Should().BeEmpty();
    }

    [Fact]
    public async Task Pause_OnAReadOnlyDashboard_HasNoButtonAndIsRefused()
    {
        await using var server = await DashboardServer.StartAsync(readOnly: true);
        using var client = new DashboardClient(server);
        var (header, token) = await client.GetAntiforgeryAsync(ListPath);
        var (_, html) = await client.GetAsync(ListPath);

        var status = await client.PostAsync(PathOf("crons", DashboardServer.CronId, "pause"), [(header, token)]);

        html.Should().NotContain("fanout-pause").And.NotContain("/pause\"");
        status.Should().Be(HttpStatusCode.Forbidden);
        (await PausedAsync(server)).Should().BeEmpty();
    }

    [Fact]
    public async Task Pause_CrossSiteInAnAppWithoutAntiforgery_IsRefused_AndSameOriginPauses()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);
        var path = PathOf("handlers", DashboardServer.CheckHandlerId, "pause");

        var crossSite = await client.PostAsync(path, [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://other.example")]);
        var sameSite = await client.PostAsync(path, [("Sec-Fetch-Site", "same-site")]);

        crossSite.Should().Be(HttpStatusCode.Forbidden);
        sameSite.Should().Be(HttpStatusCode.Forbidden, "a sibling subdomain is another origin");
        (await PausedAsync(server)).Should().BeEmpty();

        (await client.PostAsync(path, [("Sec-Fetch-Site", "same-origin")])).Should().Be(HttpStatusCode.NoContent);
        (await PausedAsync(server)).Should().ContainSingle();
    }

    [Fact]
    public async Task Pause_UnknownId_IsNotFound()
    {
        await using var server = await DashboardServer.StartAsync(antiforgery: false);
        using var client = new DashboardClient(server);

        (await client.PostAsync(PathOf("handlers", "no-such-handler", "pause"))).Should().Be(HttpStatusCode.NotFound);
        (await client.PostAsync(PathOf("crons", DashboardServer.CheckHandlerId, "pause"))).Should().Be(HttpStatusCode.NotFound, "a handler's id is not a fan-out's");
        (await PausedAsync(server)).Should().BeEmpty();
    }

    [Fact]
    public async Task Page_AHandlerPausedByItsOptions_SaysSoAndOffersNoResume_AndTheResumeConflicts()
    {
        await using var server = await DashboardServer.StartAsync(
            antiforgery: false,
            services: s => s.Configure<FanOutHandlerOptions>(DashboardServer.AuditHandlerId, o => o.Paused = true));
        using var client = new DashboardClient(server);

        var (_, html) = await client.GetAsync(ListPath);

        html.Should().Contain("paused by configuration");
        html.Should().NotContain(PathOf("handlers", DashboardServer.AuditHandlerId, "resume"));
        html.Should().NotContain(PathOf("handlers", DashboardServer.AuditHandlerId, "pause"));
        html.Should().Contain(PathOf("handlers", DashboardServer.CheckHandlerId, "pause"), "the other handler can be paused");
        (await client.PostAsync(PathOf("handlers", DashboardServer.AuditHandlerId, "resume"))).Should().Be(HttpStatusCode.Conflict);
        (await PausedAsync(server)).Should().ContainSingle().Which.ByConfiguration.Should().BeTrue();
    }

    internal static string PathOf(string target, string id, string action) => $"{ListPath}/{target}/{id}/{action}";

    private static IFanOutControl Control(DashboardServer server) => server.Services.GetRequiredService<IFanOutControl>();

    private static Task<IReadOnlyList<FanOutPause>> PausedAsync(DashboardServer server) => Control(server).GetPausedAsync();
}
