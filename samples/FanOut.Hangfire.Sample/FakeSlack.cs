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
/// of the idempotency key, so the same messages fail on every run and their retries succeed.
/// </summary>
public sealed class FakeSlack(IConfiguration configuration)
{
    private readonly double _transientFailureRate = configuration.GetValue("Sample:TransientFailureRate", 0.05);
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

        if (FailsFirstTime(idempotencyKey) && _failedOnce.TryAdd(idempotencyKey, true))
        {
            return Results.Problem("Slack is briefly unavailable; try again.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var isNew = _messages.TryAdd(idempotencyKey, message);
        return Results.Ok(new { ok = true, duplicate = !isNew });
    }

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

    private bool FailsFirstTime(string idempotencyKey)
    {
        var hash = BinaryPrimitives.ReadUInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)));
        return hash < _transientFailureRate * uint.MaxValue;
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
        return endpoints;
    }
}
