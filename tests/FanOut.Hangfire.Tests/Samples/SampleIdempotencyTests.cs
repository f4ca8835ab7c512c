using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Samples;

/// <summary>The sample's <c>POST /events/{name}</c> honours the <c>Idempotency-Key</c> header (design.md invariant 17).</summary>
public sealed class SampleIdempotencyTests(ITestOutputHelper output)
{
    private const string EventPath = "/events/app/notification.dispatched";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sample_TwoSendsWithOneIdempotencyKey_ReturnOneRunId_AndASendWithoutItStartsAnother()
    {
        var address = new Uri($"http://127.0.0.1:{LoopbackPort.Free().ToString(CultureInfo.InvariantCulture)}");
        await using var sample = SampleProcesses.RunWebSample(new Dictionary<string, string> { ["ASPNETCORE_URLS"] = address.ToString() }, output);
        await SampleProcesses.WaitUntilAnswersAsync(sample, new Uri(address, "/hangfire"), StartTimeout);
        using var http = new HttpClient { BaseAddress = address };

        var first = await SendAsync(http, "order-1001", """["acct-1","acct-2"]""");
        var second = await SendAsync(http, "order-1001", """["acct-3"]""");
        var unkeyed = await SendAsync(http, null, """["acct-1"]""");
        using var blank = await PostAsync(http, " ", """["acct-1"]""");

        second.Should().Be(first, "the same Idempotency-Key returns the first run's id; " + sample.Tail());
        unkeyed.Should().NotBe(first);
        blank.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a blank key is refused, naming it");
        (await blank.Content.ReadAsStringAsync()).Should().Contain("IdempotencyKey");
        var run = await http.GetFromJsonAsync<JsonElement>(new Uri($"/runs/{first}", UriKind.Relative));
        run.GetProperty("dispatchedItems").GetInt64().Should().Be(2, "the second send sent nothing");
    }

    private static async Task<string> SendAsync(HttpClient http, string? key, string accountIds)
    {
        using var response = await PostAsync(http, key, accountIds);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string? key, string accountIds)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(EventPath, UriKind.Relative))
        {
            Content = new StringContent(accountIds, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await http.SendAsync(request);
    }
}
