using System.Text;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using FanOut.Hangfire.Tests.Storages;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Operations;

/// <summary>
/// Each job's own logs, on InMemory and PostgreSQL (design.md invariant 18): what a handler logs through its own
/// <c>ILogger&lt;T&gt;</c> from DI during a call is kept with that attempt, and nothing else is: not other code logging at
/// the same time, not other jobs, not a thread outside the call's flow, not work the call left running. The hosts keep
/// the application's own minimum level at Warning, and the library's defaults for the job logs (Information and above,
/// 100 lines, 16 KiB per attempt).
/// </summary>
public abstract class JobLogMatrix(StorageUnderTest storage) : StorageMatrixTest(storage)
{
    private const string Event = "account/due";

    [Fact]
    public async Task JobLog_HandlersOwnLogger_KeepsEachAttemptsLinesOfThatCallOnly_AndAFailedItemCarriesItsLast()
    {
        var calls = new ChattyCalls();
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<ChattyHandler>("notify", on: Event, h =>
            {
                h.RetryAttempts = 1;
                h.RetryDelays.Add(TimeSpan.Zero);
            }),
            services => services.AddSingleton(calls));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var otherCode = host.Services.GetRequiredService<ILogger<JobLogMatrix>>();
        using var stop = new CancellationTokenSource();
        var noise = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                otherCode.LogWarning("Other code is logging at the same time");
                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);

        var runId = await host.Client.SendManyAsync(Event, ["flaky-1", "plain-2", "plain-3", "broken-4"]);
        await Wait.UntilAsync(
            async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.CompletedWithFailures && calls.LateLines >= calls.Calls.Count,
            Timeout,
            async () => $"{(await runs.GetAsync(runId))?.Status}, {calls.Calls.Count} calls, {calls.LateLines} late lines");
        await stop.CancelAsync();
        await noise;

        var flaky = await runs.GetJobLogAsync(calls.JobOf("flaky-1"));
        flaky.Select(l => l.Attempt).Should().Equal([1, 2], "each attempt keeps its own lines");
        flaky[0].Entries.Select(e => e.Message).Should().Equal("Handling flaky-1, attempt 1", "From a task of flaky-1", "Giving up on flaky-1 for now");
        flaky[1].Entries.Select(e => e.Message).Should().Equal("Handling flaky-1, attempt 2", "From a task of flaky-1", "Done with flaky-1");
        var warning = flaky[0].Entries[^1];
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Exception.Should().Contain("System.InvalidOperationException: flaky-1 failed on attempt 1");
        flaky[1].Entries.Should().OnlyContain(e => e.Level == LogLevel.Information && e.Category == typeof(ChattyHandler).FullName && e.Exception == null);
        flaky.SelectMany(l => l.Entries).Should().OnlyContain(e => e.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-5) && e.Timestamp <= DateTimeOffset.UtcNow);

        foreach (var item in new[] { "plain-2", "plain-3", "broken-4" })
        {
            var logs = await runs.GetJobLogAsync(calls.JobOf(item));
            logs.SelectMany(l => l.Entries).Should().OnlyContain(
                e => e.Message.Contains(item, StringComparison.Ordinal) && !e.Message.StartsWith("Unflowed", StringComparison.Ordinal) && !e.Message.StartsWith("Too late", StringComparison.Ordinal) && !e.Message.StartsWith("Debug", StringComparison.Ordinal),
                "a job keeps only its own call's lines at Information and above: no Debug line, no other code, no other job, no thread outside the call's flow, nothing after it returned");
        }

        var failed = (await runs.GetFailedItemsAsync(runId)).Should().ContainSingle().Subject;
        failed.ItemKey.Should().Be("broken-4");
        failed.Log.Should().NotBeNull("a failed item carries what its last attempt logged");
        failed.Log!.Attempt.Should().Be(2);
        failed.Log.Entries.Select(e => e.Message).Should().Equal("Handling broken-4, attempt 2", "From a task of broken-4", "Giving up on broken-4 for now");
        failed.Log.JobId.Should().Be(failed.JobId);
    }

    [Fact]
    public async Task JobLog_OverTheDefaultCaps_KeepsTheLastLinesWithin100And16KiB_AndSaysHowManyWereDropped()
    {
        var calls = new ChattyCalls();
        await using var host = await StartAsync(
            fanOut => fanOut.AddHandler<ChattyHandler>("notify", on: Event),
            services => services.AddSingleton(calls));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var runId = await host.Client.SendManyAsync(Event, ["verbose-1", "big-2"]);
        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.Completed, Timeout, () => "the run to complete");

        var verbose = (await runs.GetJobLogAsync(calls.JobOf("verbose-1"))).Should().ContainSingle().Subject;
        verbose.Entries.Should().HaveCount(100, "an attempt keeps 100 lines by default");
        verbose.DroppedEntries.Should().Be(153 - 100, "it logged 153 lines at Information and above");
        verbose.Entries[^1].Message.Should().Be("Done with verbose-1", "the last lines are the ones kept");
        verbose.Entries[^2].Message.Should().Be("Line 149 of verbose-1");

        var big = (await runs.GetJobLogAsync(calls.JobOf("big-2"))).Should().ContainSingle().Subject;
        big.Entries.Sum(e => Encoding.UTF8.GetByteCount(e.Message) + (e.Exception is null ? 0 : Encoding.UTF8.GetByteCount(e.Exception)))
            .Should().BeLessThanOrEqualTo(16 * 1024, "an attempt keeps 16 KiB by default");
        big.Entries[^1].Message.Should().Be("Done with big-2");
        big.Entries.Should().Contain(e => e.Message == new string('c', 10_000), "the last long line fits");
        big.DroppedEntries.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task JobLog_Off_StoresNothing_AndAHandlerThatLogsNothingStoresNothing()
    {
        var calls = new ChattyCalls();
        var recorder = new Recorder();
        await using var host = await StartAsync(
            fanOut =>
            {
                fanOut.Services.Configure<FanOutOptions>(o => o.JobLogs.MinimumLevel = LogLevel.None);
                fanOut.AddHandler<ChattyHandler>("notify", on: Event).AddHandler<RecordingHandler>("silent", on: Event);
            },
            services => services.AddSingleton(calls).AddSingleton(recorder));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();

        var runId = await host.Client.SendManyAsync(Event, ["plain-1"]);
        await Wait.UntilAsync(async () => (await runs.GetAsync(runId))?.Status == FanOutRunStatus.Completed, Timeout, () => "the run to complete");

        var jobs = new[] { calls.JobOf("plain-1"), recorder.Calls.Single().Context.JobId };
        using var connection = host.Storage.GetConnection();
        foreach (var jobId in jobs)
        {
            (await runs.GetJobLogAsync(jobId)).Should().BeEmpty();
            connection.GetJobParameter(jobId, JobParameters.Log(1)).Should().BeNull("nothing is written when nothing is kept");
        }
    }

    [Fact]
    public async Task GetJobLogAsync_OfAJobThatIsNotAFanOutJobOrDoesNotExist_IsEmpty()
    {
        await using var host = await StartAsync(fanOut => fanOut.AddHandler<RecordingHandler>("notify", on: Event), services => services.AddSingleton(new Recorder()));
        var runs = host.Services.GetRequiredService<IFanOutRuns>();
        var plain = host.Services.GetRequiredService<IBackgroundJobClient>().Schedule(() => Console.WriteLine("plain"), TimeSpan.FromHours(1));

        (await runs.GetJobLogAsync(plain)).Should().BeEmpty();
        (await runs.GetJobLogAsync("999999")).Should().BeEmpty();
        await runs.Invoking(r => r.GetJobLogAsync(" ")).Should().ThrowAsync<ArgumentException>().Where(e => e.ParamName == "jobId");
    }
}

[Trait(StorageUnderTest.Trait, StorageUnderTest.InMemoryName)]
public sealed class JobLogOnInMemory() : JobLogMatrix(StorageUnderTest.InMemory());

[Trait(StorageUnderTest.Trait, StorageUnderTest.PostgreSqlName), Collection(PostgresCollection.Name)]
public sealed class JobLogOnPostgreSql(PostgresServer server) : JobLogMatrix(StorageUnderTest.PostgreSql(server));
