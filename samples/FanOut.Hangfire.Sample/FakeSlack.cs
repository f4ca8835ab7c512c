using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FanOut.Hangfire.Sample;

/// <summary>
/// A stand-in for Slack's API, served by the sample itself so it runs without the internet. Like the real thing it
/// limits how fast it may be called: at most one message per second per channel (<see cref="ChannelPace"/>) and at most
/// <see cref="MaxConcurrentPerWorkspace"/> requests at once per workspace, the workspace being named by the request's bot
/// token. Beyond that it answers 429 with a <c>Retry-After</c> header. Each request it serves takes
/// <c>Sample:SlackLatency</c>. It is sometimes briefly unavailable: <c>Sample:TransientFailureRate</c> of first requests
/// get a 503, chosen by a hash of the idempotency key, so the same messages fail on every run and their retries succeed.
/// And some channels can be broken for good: <c>Sample:PermanentFailureRate</c> of channels reject every message until
/// <c>POST /fake-slack/heal</c>, so that a run ends with failed items to retry from the dashboard.
/// </summary>
public sealed partial class FakeSlack(IConfiguration configuration, TimeProvider time, ILogger<FakeSlack> logger)
{
    /// <summary>The most requests a workspace may have in flight at once.</summary>
    public const int MaxConcurrentPerWorkspace = 3;

    /// <summary>What a bot token starts with; the workspace id follows.</summary>
    public const string TokenPrefix = "xoxb-";

    private readonly double _transientFailureRate = configuration.GetValue("Sample:TransientFailureRate", 0.05);
    private readonly double _permanentFailureRate = configuration.GetValue("Sample:PermanentFailureRate", 0.0);
    private readonly TimeSpan _latency = configuration.GetValue("Sample:SlackLatency", TimeSpan.FromMilliseconds(50));
    private readonly WorkspaceCalls _calls = new();
    private readonly ChannelPace _channels = new(time);
    private readonly ConcurrentDictionary<string, SlackMessage> _messages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failedOnce = new(StringComparer.Ordinal);
    private volatile bool _healed;
    private int _rejected;

    /// <summary>How many distinct messages were received (duplicates of an idempotency key count once).</summary>
    public int MessageCount => _messages.Count;

    /// <summary>Messages accepted, requests rejected with 429, and the most requests seen at once for one workspace.</summary>
    public FakeSlackStats Stats => new(MessageCount, Volatile.Read(ref _rejected), _calls.MostAtOnce);

    /// <summary>The bot token of a workspace, as the handler sends it and the fake Slack reads it.</summary>
    public static string TokenOf(string workspaceId) => TokenPrefix + workspaceId;

    public async Task<IResult> ReceiveAsync(
        string? authorization,
        string? idempotencyKey,
        SlackMessage message,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return Results.Problem("The Idempotency-Key header is required.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (WorkspaceOf(authorization) is not { } workspace)
        {
            return Results.Problem($"A bot token (Authorization: Bearer {TokenPrefix}...) is required.", statusCode: StatusCodes.Status401Unauthorized);
        }

        using var call = _calls.Enter(workspace);
        if (call.AtOnce > MaxConcurrentPerWorkspace)
        {
            return RateLimited(response, TimeSpan.FromSeconds(1), $"Workspace {workspace} has more than {MaxConcurrentPerWorkspace} requests in flight.");
        }

        var result = Decide(idempotencyKey, message, response);
        if (result is not null)
        {
            return result;
        }

        // Only requests that are served take time; a 429 is answered at once.
        await Task.Delay(_latency, time, cancellationToken);
        return Results.Ok(new { ok = true });
    }

    /// <summary>Ends the permanent failures: retried messages go through from now on.</summary>
    public void Heal() => _healed = true;

    /// <summary>Where the handler reaches the fake Slack: this application's own first HTTP address.</summary>
    public static Uri BaseAddressOf(IServiceProvider services)
    {
        var addresses = services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The application is not listening yet, so the fake Slack cannot be reached.");

        var uri = new UriBuilder(address);
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "localhost";
        }

        return uri.Uri;
    }

    // Null when the message is accepted (or a duplicate), else the answer.
    private IResult? Decide(string idempotencyKey, SlackMessage message, HttpResponse response)
    {
        if (!_healed && IsUnder(message.Channel, _permanentFailureRate))
        {
            return Results.Problem($"Channel {message.Channel} is archived.", statusCode: StatusCodes.Status410Gone);
        }

        if (IsUnder(idempotencyKey, _transientFailureRate) && _failedOnce.TryAdd(idempotencyKey, true))
        {
            return Results.Problem("Slack is briefly unavailable; try again.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (_messages.ContainsKey(idempotencyKey))
        {
            // Already posted: dropped, and no new message for the channel's pace.
            return null;
        }

        if (!_channels.TryPost(message.Channel, out var retryAfter))
        {
            return RateLimited(response, retryAfter, $"Channel {message.Channel} takes one message per second; the last one came {(ChannelPace.Interval - retryAfter).TotalMilliseconds:F0} ms ago.");
        }

        _messages.TryAdd(idempotencyKey, message);
        return null;
    }

    private IResult RateLimited(HttpResponse response, TimeSpan retryAfter, string detail)
    {
        Interlocked.Increment(ref _rejected);
        LogRateLimited(detail);
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Results.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "429: {Detail}")]
    private partial void LogRateLimited(string detail);

    private static string? WorkspaceOf(string? authorization) =>
        authorization is not null
        && authorization.StartsWith("Bearer " + TokenPrefix, StringComparison.Ordinal)
        && authorization.Length > "Bearer ".Length + TokenPrefix.Length
            ? authorization[("Bearer ".Length + TokenPrefix.Length)..]
            : null;

    // A stable choice per value: the same keys or channels fail every time the sample runs.
    private static bool IsUnder(string value, double rate)
    {
        var hash = BinaryPrimitives.ReadUInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
        return hash < rate * uint.MaxValue;
    }
}

/// <summary>What <c>GET /fake-slack/stats</c> returns.</summary>
public sealed record FakeSlackStats(int Messages, int Rejected, int MaxConcurrentPerWorkspace);
