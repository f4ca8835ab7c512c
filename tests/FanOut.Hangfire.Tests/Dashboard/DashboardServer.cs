using System.Net;
using FanOut.Hangfire.Tests.Fakes;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>
/// A real ASP.NET Core app on Kestrel at 127.0.0.1 with Hangfire (InMemory storage, a real server) and its dashboard at
/// /hangfire, and a cron fan-out whose check handler fails for good (no retries) on the keys in <see cref="Broken"/>;
/// with limits, also a cron fan-out whose two handlers have limits and hold their calls until <see cref="Gate"/> opens.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    public const string CronId = "nightly-checks";
    public const string EventName = "checks/item.ready";
    public const string CheckHandlerId = "check-item";
    public const string AuditHandlerId = "audit-item";

    public const string LimitedCronId = "limited-checks";
    public const string LimitedEventName = "limited/item.ready";

    /// <summary>A handler with a limit of its own: 3 calls at once, 2 per key (the item's text before its '-').</summary>
    public const string KeyedHandlerId = "keyed-check";

    /// <summary>A handler drawing on the shared limit <see cref="SharedLimitName"/>: 1 call at once.</summary>
    public const string SharedHandlerId = "partner-sync";

    public const string SharedLimitName = "partner-api";

    /// <summary>A cron fan-out whose handler always throws and retries in 10 minutes: its jobs all wait for their retry.</summary>
    public const string RetryingCronId = "retrying-checks";
    public const string RetryingEventName = "retrying/item.ready";
    public const string RetryingHandlerId = "always-failing";

    /// <summary>A cron fan-out whose handler logs as it goes and fails <c>broken-*</c> items for good.</summary>
    public const string LoggedCronId = "logged-checks";
    public const string LoggedEventName = "logged/item.ready";
    public const string LoggedHandlerId = "logged-check";

    /// <summary>An item key that is markup: the pages must show it as text.</summary>
    public const string ScriptKey = "<script>alert('fan-out')</script>";

    /// <summary>A test sets this header to make a request look as if it came from another machine.</summary>
    public const string SimulatedRemoteAddressHeader = "X-Test-Remote-Address";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly JobStorage _storage;

    private DashboardServer(WebApplication app, JobStorage storage, Uri baseAddress)
    {
        _app = app;
        _storage = storage;
        BaseAddress = baseAddress;
    }

    public static IReadOnlyList<string> ItemKeys { get; } = ["acct-1", "acct-2", "acct-3", "acct-4", ScriptKey];

    public static IReadOnlyList<string> BrokenKeys { get; } = ["acct-3", ScriptKey];

    public static int JobsPerRun => ItemKeys.Count * 2;

    /// <summary>
    /// One of each key first, so the keyed handler's three slots go to t1, t2 and t3 and the four after them wait, with
    /// every key still under its own limit of 2: t2 has 2 waiting, t1 and t3 one each. The shared limit runs one, six wait.
    /// </summary>
    public static IReadOnlyList<string> LimitedItems { get; } = ["t1-a", "t2-a", "t3-a", "t1-b", "t2-b", "t2-c", "t3-b"];

    public static IReadOnlyList<string> RetryingItems { get; } = ["broken-1", "broken-2", "broken-3", "broken-4"];

    public static IReadOnlyList<string> LoggedItems { get; } = ["broken-1", "plain-2"];

    public Uri BaseAddress { get; }

    public Uri DashboardAddress => new(BaseAddress, "/hangfire");

    public DashboardAccess Access => Services.GetRequiredService<DashboardAccess>();

    public BrokenItems Broken => Services.GetRequiredService<BrokenItems>();

    /// <summary>Holds the calls of the limited handlers (with limits only) until the test opens it.</summary>
    public Gate Gate => Services.GetRequiredService<Gate>();

    public IFanOutRuns Runs => Services.GetRequiredService<IFanOutRuns>();

    public IServiceProvider Services => _app.Services;

    public JobStorage Storage => _storage;

    /// <summary>Starts the app.</summary>
    /// <param name="antiforgery">Registers ASP.NET Core antiforgery, which the dashboard then checks on every POST.</param>
    /// <param name="defaultDashboardOptions">Maps the dashboard as the sample does, with Hangfire's default options.</param>
    /// <param name="readOnly">Makes the dashboard read-only.</param>
    /// <param name="limits">Adds <see cref="LimitedCronId"/>, whose handlers have limits and wait on <see cref="Gate"/>.</param>
    /// <param name="retries">Adds <see cref="RetryingCronId"/> and <see cref="LoggedCronId"/>, whose handler logs (<see cref="ChattyHandler"/>).</param>
    /// <param name="services">Adds or configures services after the app's own.</param>
    public static async Task<DashboardServer> StartAsync(
        bool antiforgery = true,
        bool defaultDashboardOptions = false,
        bool readOnly = false,
        bool limits = false,
        bool retries = false,
        Action<IServiceCollection>? services = null)
    {
        var storage = TestHost.InMemory();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        // With limits, four calls hold their slots on the gate; the other workers keep the rest of the app going.
        TestHost.AddHangfire(builder.Services, storage, workers: limits ? 8 : 4);
        if (antiforgery)
        {
            builder.Services.AddAntiforgery();
        }

        var items = new TestItems();
        items.Ids.AddRange(ItemKeys);
        var broken = new BrokenItems();
        foreach (var key in BrokenKeys)
        {
            broken.Keys[key] = true;
        }

        builder.Services.AddSingleton(items).AddSingleton(broken).AddSingleton<Recorder>().AddSingleton<DashboardAccess>();
        var fanOut = builder.Services.AddFanOut().AddDashboard()
            .AddCron<ListSource>(CronId, "0 3 1 1 *", sends: EventName)
            .AddHandler<SometimesBrokenHandler>(CheckHandlerId, on: EventName, o => o.RetryAttempts = 0)
            .AddHandler<RecordingHandler>(AuditHandlerId, on: EventName)
            .AddCompletionHandler<CompletionRecorder>(of: CronId);
        if (limits)
        {
            builder.Services.AddSingleton<Gate>();
            fanOut
                .AddLimit(SharedLimitName, l => l.ConcurrencyLimit = 1)
                .AddCron<LimitedItemsSource>(LimitedCronId, "0 3 1 1 *", sends: LimitedEventName)
                .AddHandler<GatedHandler>(KeyedHandlerId, on: LimitedEventName, h =>
                {
                    h.ConcurrencyLimit = 3;
                    h.ConcurrencyLimitPerKey = 2;
                    h.UseConcurrencyKey<string>(CallLog.KeyOf);
                })
                .AddHandler<GatedHandler>(SharedHandlerId, on: LimitedEventName, h => h.Limit = SharedLimitName);
        }

        if (retries)
        {
            builder.Services.AddSingleton<ChattyCalls>();
            fanOut
                .AddCron<ScriptedItemsSource>(RetryingCronId, "0 3 1 1 *", sends: RetryingEventName)
                .AddHandler<ChattyHandler>(RetryingHandlerId, on: RetryingEventName, h =>
                {
                    h.RetryAttempts = 3;
                    h.RetryDelays.Add(TimeSpan.FromMinutes(10));
                })
                .AddCron<ScriptedItemsSource>(LoggedCronId, "0 3 1 1 *", sends: LoggedEventName)
                .AddHandler<ChattyHandler>(LoggedHandlerId, on: LoggedEventName, h => h.RetryAttempts = 0);
        }

        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue(SimulatedRemoteAddressHeader, out var address))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(address.ToString());
            }

            return next(context);
        });
        if (defaultDashboardOptions)
        {
            app.MapHangfireDashboard();
        }
        else
        {
            app.MapHangfireDashboard("/hangfire", new DashboardOptions
            {
                Authorization = [app.Services.GetRequiredService<DashboardAccess>()],
                IsReadOnlyFunc = _ => readOnly,
            });
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardServer(app, storage, new Uri(address));
    }

    /// <summary>Triggers the cron fan-out and waits until its run completed, with its broken items failed.</summary>
    public async Task<string> RunWithFailuresAsync()
    {
        var runId = await Services.GetRequiredService<IFanOutClient>().TriggerAsync(CronId);
        await WaitForRunAsync(runId, run => run.Status == FanOutRunStatus.CompletedWithFailures && run.DispatchedJobs == JobsPerRun, "to complete");
        return runId;
    }

    /// <summary>
    /// Triggers the limited cron fan-out and waits until its dispatch ended and its calls hold every slot, with the
    /// jobs behind them waiting; the gate stays shut.
    /// </summary>
    public async Task<string> RunWithWaitingJobsAsync()
    {
        var runId = await Services.GetRequiredService<IFanOutClient>().TriggerAsync(LimitedCronId);
        await WaitForRunAsync(
            runId,
            run => run.Status == FanOutRunStatus.Running
                && run.Handlers.Single(h => h.HandlerId == KeyedHandlerId).Waiting == 4
                && run.Handlers.Single(h => h.HandlerId == SharedHandlerId).Waiting == 6,
            "to hold every slot with the jobs behind them waiting");
        await Wait.UntilAsync(() => Gate.Started == 4, RunTimeout, () => $"{Gate.Started} of 4 calls started");
        return runId;
    }

    /// <summary>Triggers <see cref="RetryingCronId"/> and waits until every job of its run waits for its retry.</summary>
    public async Task<string> RunWithRetryingJobsAsync()
    {
        var runId = await Services.GetRequiredService<IFanOutClient>().TriggerAsync(RetryingCronId);
        await WaitForRunAsync(runId, run => run.Retrying == RetryingItems.Count, "to have every job waiting for its retry");
        return runId;
    }

    /// <summary>Triggers <see cref="LoggedCronId"/> and waits until its run completed, its broken item failed.</summary>
    public async Task<string> RunWithLoggedFailureAsync()
    {
        var runId = await Services.GetRequiredService<IFanOutClient>().TriggerAsync(LoggedCronId);
        await WaitForRunAsync(runId, run => run.Status == FanOutRunStatus.CompletedWithFailures, "to complete with its failure");
        return runId;
    }

    /// <summary>Polls the run until <paramref name="condition"/> holds, up to a deadline.</summary>
    public async Task<FanOutRun> WaitForRunAsync(string runId, Func<FanOutRun, bool> condition, string what)
    {
        FanOutRun? run = null;

        // IFanOutRuns reads storage synchronously; polling it this way costs nothing.
        await Wait.UntilAsync(
            () => (run = Runs.GetAsync(runId).GetAwaiter().GetResult()) is { } found && condition(found),
            RunTimeout,
            () => $"run {runId} {what}: {Describe(run)}");
        return run!;
    }

    public static string Describe(FanOutRun? run) => run is null
        ? "no run record"
        : $"{run.Status}, {run.DispatchedJobs} jobs, {run.Succeeded} succeeded, {run.Failed} failed, {run.InFlight} in flight, {run.Retrying} retrying, "
            + $"waiting: {string.Join(", ", run.Handlers.Select(h => $"{h.HandlerId} {h.Waiting}"))}";

    public async ValueTask DisposeAsync()
    {
        // Calls still held on the gate would keep the server from stopping in time.
        Services.GetService<Gate>()?.Open.TrySetResult();

        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await _app.StopAsync(stopping.Token);
        }

        await _app.DisposeAsync();
        (_storage as IDisposable)?.Dispose();

        // AddHangfire points Hangfire's static log provider at this app's logger factory, now disposed.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
    }
}
