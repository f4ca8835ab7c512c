using System.Net;
using System.Text.RegularExpressions;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>An HttpClient on a <see cref="DashboardServer"/>'s dashboard that keeps cookies, as a browser would.</summary>
public sealed partial class DashboardClient : IDisposable
{
    private readonly HttpClient _http;

    public DashboardClient(DashboardServer server)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = server.BaseAddress,
        };
    }

    public static string RunPath(string runId) => $"/hangfire/fanout/runs/{runId}";

    public static string RetryFailedPath(string runId) => RunPath(runId) + "/retry-failed";

    public static string FanOutPath(string name) => $"/hangfire/fanout?name={Uri.EscapeDataString(name)}";

    public static string RetryFailedRunsPath(string name, DateTimeOffset from, DateTimeOffset to) =>
        $"/hangfire/fanout/retry-failed-runs?name={Uri.EscapeDataString(name)}&from={Uri.EscapeDataString(from.UtcDateTime.ToString("O"))}&to={Uri.EscapeDataString(to.UtcDateTime.ToString("O"))}";

    public async Task<(HttpStatusCode Status, string Html)> GetAsync(string path, IEnumerable<(string Name, string Value)>? headers = null)
    {
        using var response = await SendAsync(HttpMethod.Get, path, headers);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Reads the antiforgery header name and token the dashboard's layout puts in its meta tags.</summary>
    public async Task<(string Header, string Token)> GetAntiforgeryAsync(string pagePath)
    {
        var (status, html) = await GetAsync(pagePath);
        status.Should().Be(HttpStatusCode.OK);
        var header = CsrfHeader().Match(html);
        var token = CsrfToken().Match(html);
        header.Success.Should().BeTrue("the dashboard renders the antiforgery header name when antiforgery is registered");
        token.Success.Should().BeTrue("the dashboard renders the antiforgery token when antiforgery is registered");
        return (header.Groups[1].Value, WebUtility.HtmlDecode(token.Groups[1].Value));
    }

    public async Task<HttpStatusCode> PostAsync(string path, IEnumerable<(string Name, string Value)>? headers = null) =>
        (await PostReadingAsync(path, headers)).Status;

    public async Task<(HttpStatusCode Status, string Body)> PostReadingAsync(string path, IEnumerable<(string Name, string Value)>? headers = null)
    {
        using var response = await SendAsync(HttpMethod.Post, path, headers);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, IEnumerable<(string Name, string Value)>? headers)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (method == HttpMethod.Post)
        {
            request.Content = new FormUrlEncodedContent([]);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.Add(name, value);
        }

        return await _http.SendAsync(request);
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<meta name=\"csrf-header\" content=\"([^\"]+)\">")]
    private static partial Regex CsrfHeader();

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\">")]
    private static partial Regex CsrfToken();
}
