using Microsoft.AspNetCore.Mvc;

namespace FanOut.Hangfire.Sample;

public static class FakeSlackEndpoints
{
    public static IEndpointRouteBuilder MapFakeSlack(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/fake-slack/messages", (
            [FromHeader(Name = "Authorization")] string? authorization,
            [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
            SlackMessage message,
            FakeSlack slack,
            HttpContext http) => slack.ReceiveAsync(authorization, idempotencyKey, message, http.Response, http.RequestAborted));

        endpoints.MapGet("/fake-slack/messages/count", (FakeSlack slack) => slack.MessageCount);
        endpoints.MapGet("/fake-slack/stats", (FakeSlack slack) => slack.Stats);
        endpoints.MapPost("/fake-slack/heal", (FakeSlack slack) =>
        {
            slack.Heal();
            return Results.NoContent();
        });
        return endpoints;
    }
}
