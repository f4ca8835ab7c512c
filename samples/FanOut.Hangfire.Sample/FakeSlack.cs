using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace FanOut.Hangfire.Sample;

/// <summary>
/// A stand-in for Slack's API, served by the sample itself so it runs without the internet. Like the real thing it
/// is sometimes briefly unavailable: <c>Sample:TransientFailureRate</c> of first requests get a 503, chosen by a hash
/// of the idempotency key, so the same messages fail on every run and their retries succeed. And some channels can be
/// broken for good: <c>Sample:PermanentFailureRate</c> of channels reject every message until <c>POST /fake-slack/heal</c>,
/// so that a run ends with failed items to retry from the dashboard.
/// </summary>
public sealed class FakeSlack(IConfiguration configuration)
{
    private readonly double _transientFailureRate = configuration.GetValue("Sample:TransientFailureRate", 0.05);
    private readonly double _permanentFailureRate = configuration.GetValue("Sample:PermanentFailureRate", 0.0);
    private volatile bool _healed;
    private readonly ConcurrentDictionary<string, SlackMessage> _messages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failedOnce = new(StringComparer.Ordinal);

    /// <summary>How many distinct messages were received (duplicates of an idempotency key count once).</summary>
    public int MessageCount => _messages.Count;

    public IResult Receive(string? idempotencyKey, SlackMessage message)
    {
        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return Results.Problem("The Idempotency-Key header is required.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (!_healed && IsUnder(message.Channel, _permanentFailureRate))
        {
            return Results.Problem($"Channel {message.Channel} is archived.", statusCode: StatusCodes.Status410Gone);
        }

        if (IsUnder(idempotencyKey, _transientFailureRate) && _failedOnce.TryAdd(idempotencyKey, true))
        {
            return Results.Problem("Slack is briefly unavailable; try again.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var isNew = _messages.TryAdd(idempotencyKey, message);
        return Results.Ok(new { ok = true, duplicate = !isNew });
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

    // A stable choice per value: the same keys or channels fail every time the sample runs.
    private static bool IsUnder(string value, double rate)
    {
        var hash = BinaryPrimitives.ReadUInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
        return hash < rate * uint.MaxValue;
    }
}

public static class FakeSlackEndpoints
{
    public static IEndpointRouteBuilder MapFakeSlack(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/fake-slack/messages", (
            [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
            SlackMessage message,
            FakeSlack slack) => slack.Receive(idempotencyKey, message));

        endpoints.MapGet("/fake-slack/messages/count", (FakeSlack slack) => slack.MessageCount);
        endpoints.MapPost("/fake-slack/heal", (FakeSlack slack) =>
        {
            slack.Heal();
            return Results.NoContent();
        });
        return endpoints;
    }
}
