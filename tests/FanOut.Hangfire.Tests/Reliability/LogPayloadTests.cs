using System.Runtime.CompilerServices;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FanOut.Hangfire.Tests.Reliability;

/// <summary>
/// Item payloads never reach log messages above Debug: items can hold personal data, and Information and above is
/// what production keeps. Keys may appear (they are how a failure is found). Every entry is captured at every level,
/// with its structured values, scopes and exception, from the library and from Hangfire, through successes, retries,
/// failures, a failed dispatch and a stored item that no longer reads.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LogPayloadTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const string Event = "account/due";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Logs_AtInformationAndAbove_NeverContainItemPayloads_ThroughSuccessesRetriesAndFailures()
    {
        var marker = $"SECRET-{Guid.NewGuid():N}";
        var logs = new LogCapture();
        var database = await postgres.CreateDatabaseAsync("log_payloads");
        await using var host = await TestHost.StartAsync(
            TestHost.Postgres(database),
            fanOut => fanOut
                .AddCron<SecretSource>("accounts", "0 3 * * *", sends: Event)
                .AddCron<SecretSource>("oversized", "0 3 * * *", sends: Event)
                .AddHandler<PayloadHandler>("notify", on: Event, o => o.RetryAttempts = 0)
                .AddHandler<PayloadHandler>("flaky", on: Event, o => o.RetryDelays.Add(TimeSpan.Zero))
                .AddHandler<PayloadHandler>("broken", on: Event, o =>
                {
                    o.RetryAttempts = 1;
                    o.RetryDelays.Add(TimeSpan.Zero);
                }),
            services => services
                .AddSingleton(new SecretMarker(marker))
                .AddFanOut(o =>
                {
                    o.MaxItemBytes = 1_024;
                    o.DispatchRetryAttempts = 0;
                })
                .Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Trace).AddProvider(logs)),
            workers: 8);

        await host.Client.TriggerAsync("accounts");
        await host.Client.TriggerAsync("oversized");
        await host.Client.SendManyAsync(Event, Enumerable.Range(5, 5).Select(i => new SecretAccount($"acct-{i}", $"{marker}-{i}")));
        var unreadable = host.Services.GetRequiredService<IBackgroundJobClient>().Create(
            Job.FromExpression<FanOutItemJob>(j => j.ExecuteAsync("notify", "run-x", "acct-99", $$$"""{"id":"acct-99","secret":{"value":"{{{marker}}}"}}""", null, CancellationToken.None)),
            new EnqueuedState());

        // 10 items x (notify, flaky) succeed; 10 x broken, the unreadable job and the oversized dispatch fail.
        var api = host.Storage.GetMonitoringApi();
        await Wait.UntilAsync(
            () => api.FailedCount() >= 12 && api.SucceededListCount() >= 21,
            Timeout,
            () => $"{api.SucceededListCount()} succeeded and {api.FailedCount()} failed");

        var entries = logs.Entries;
        output.WriteLine($"Captured {entries.Count} entries: {string.Join(", ", entries.GroupBy(e => e.Level).Select(g => $"{g.Count()} {g.Key}"))}.");
        entries.Should().Contain(e => e.Level >= LogLevel.Warning, "failures were logged").And.Contain(
            e => e.Level <= LogLevel.Debug && e.AllText().Contains("acct-1", StringComparison.Ordinal),
            "the capture sees every level, keys included");
        api.FailedJobs(0, 100).Should().Contain(j => j.Key == unreadable, "the stored item that no longer reads failed");

        entries.Where(e => e.Level >= LogLevel.Information && e.AllText().Contains(marker, StringComparison.Ordinal))
            .Select(e => $"{e.Level} {e.Category}: {e.Message}")
            .Should().BeEmpty("no item payload is logged at Information or above");
    }
}

/// <summary>An item with something in it that must not leak.</summary>
public sealed record SecretAccount(string Id, string Secret);

public sealed record SecretMarker(string Value);

/// <summary>
/// Yields accounts whose secret carries the marker: five good ones for <c>accounts</c>; for <c>oversized</c>, one far
/// over MaxItemBytes, which fails the dispatch.
/// </summary>
public sealed class SecretSource(SecretMarker marker) : IFanOutSource<SecretAccount>
{
    public async IAsyncEnumerable<SecretAccount> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (context.FanOutId == "oversized")
        {
            yield return new SecretAccount("acct-big", marker.Value + new string('x', 2_000));
            yield break;
        }

        for (var i = 0; i < 5; i++)
        {
            await Task.Yield();
            yield return new SecretAccount($"acct-{i}", $"{marker.Value}-{i}");
        }
    }
}

/// <summary><c>notify</c> succeeds, <c>flaky</c> fails its first attempt, <c>broken</c> fails every attempt; failures name the key only.</summary>
public sealed class PayloadHandler : IFanOutHandler<SecretAccount>
{
    public Task HandleAsync(SecretAccount item, FanOutContext context, CancellationToken cancellationToken) =>
        context.HandlerId switch
        {
            "flaky" when context.Attempt == 1 => throw new InvalidOperationException($"Could not reach the service for {context.ItemKey}, attempt {context.Attempt}."),
            "broken" => throw new InvalidOperationException($"The account {context.ItemKey} is closed."),
            _ => Task.CompletedTask,
        };
}
