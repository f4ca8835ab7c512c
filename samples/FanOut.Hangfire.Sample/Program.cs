using FanOut.Hangfire;
using FanOut.Hangfire.Sample;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.Mvc;

var builder = WebApplication.CreateBuilder(args);

// http://127.0.0.1:5000 unless ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS or --urls says otherwise.
if (builder.Configuration["urls"] is null && builder.Configuration["http_ports"] is null)
{
    builder.WebHost.UseUrls("http://127.0.0.1:5000");
}

// Hangfire: PostgreSQL when a connection string is given, otherwise in memory (nothing to set up, lost on exit).
var connectionString = builder.Configuration.GetConnectionString("Hangfire");
var onPostgreSql = !string.IsNullOrEmpty(connectionString);
builder.Services.AddHangfire(c =>
{
    c.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
        .UseSimpleAssemblyNameTypeSerializer()
        .UseRecommendedSerializerSettings();
    if (onPostgreSql)
    {
        // The options the README recommends (see "On PostgreSQL" there).
        c.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
        {
            // Keeps each running job's fetch alive, so a long dispatch is never handed to a second worker.
            UseSlidingInvisibilityTimeout = true,
            // With fetches kept alive, this is only how long the jobs of a server that died stay invisible.
            InvisibilityTimeout = TimeSpan.FromMinutes(5),
        });
    }
    else
    {
        c.UseInMemoryStorage();
    }
});
builder.Services.AddHangfireServer(o =>
{
    // The handler spends its time waiting on HTTP, so many workers per core pay off. And at least as many workers as
    // the handler's limits let run at once (3 per workspace; 5 workspaces by default), so that a job the limits let go
    // is fetched at once rather than queued behind others: a queued start would lag its throttled release.
    o.WorkerCount = Math.Max(Environment.ProcessorCount * 5, 20);
    // Retries are scheduled jobs; poll for them every second so short retry delays are honoured.
    o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
});

// The fan-out: twice a week, load the accounts to notify, then post each notification as its own job.
// The "FanOut" section of appsettings.json overrides what is set here.
var fanOut = builder.Services.AddFanOut(builder.Configuration.GetSection("FanOut"))
    .AddDashboard();
if (onPostgreSql)
{
    // Each chunk of child jobs is written with a few set-based statements in one transaction.
    fanOut.UsePostgreSqlDispatch();
}

// Slack takes at most one message per second per channel, and the fake Slack at most 3 requests at once per
// workspace: the handler keeps to both, so no post is refused. Sample:Limits=false leaves them out, to see the 429s.
var limits = builder.Configuration.GetValue("Sample:Limits", true);

fanOut
    .AddCron<NotificationsToRun>("slack-notification-cron", "0 9,12 * * MON,FRI",
                                 sends: "app/notification.dispatched")
    .AddHandler<PostSlackNotification>("send-slack-notification",
                                       on: "app/notification.dispatched",
                                       o =>
                                       {
                                           o.RetryAttempts = 3;
                                           o.RetryDelays.Add(TimeSpan.FromSeconds(1));
                                           o.RetryDelays.Add(TimeSpan.FromSeconds(2));
                                           o.RetryDelays.Add(TimeSpan.FromSeconds(5));
                                           if (limits)
                                           {
                                               // At most 3 calls at once per workspace, across all servers.
                                               o.ConcurrencyLimitPerKey = 3;
                                               o.UseConcurrencyKey<AccountNotification>(n => n.WorkspaceId);
                                               // Slack takes 1 message per second per channel. The throttle spaces the
                                               // calls' starts; a request reaches Slack a moment after its call starts,
                                               // later when the machine stalls, so leave a tenth as headroom.
                                               o.Throttle.PermitLimit = 1;
                                               o.Throttle.Window = TimeSpan.FromSeconds(1.1);
                                               o.UseThrottleKey<AccountNotification>(n => n.ChannelId);
                                           }
                                       })
    .AddCompletionHandler<LogRunSummary>(of: "slack-notification-cron");

// With antiforgery registered, the dashboard checks a token on every POST (Requeue, Delete, Retry failed...).
builder.Services.AddAntiforgery();

builder.Services.AddSingleton<AccountStore>();
builder.Services.AddSingleton<FakeSlack>();
builder.Services.AddHttpClient(PostSlackNotification.HttpClientName,
    (services, client) => client.BaseAddress = FakeSlack.BaseAddressOf(services));

var app = builder.Build();

// Without an Authorization option the dashboard keeps Hangfire's LocalRequestsOnlyAuthorizationFilter: it answers
// requests from this machine only. Add an authorization filter before exposing it any further.
app.MapHangfireDashboard();

// Runs a cron fan-out now instead of waiting for its schedule.
app.MapPost("/fan-outs/{id}/trigger", async (string id, IFanOutClient fanOut, CancellationToken cancellationToken) =>
{
    try
    {
        return Results.Ok(new { runId = await fanOut.TriggerAsync(id, cancellationToken) });
    }
    catch (ArgumentException ex)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound);
    }
});

// Pauses or resumes a cron fan-out (its firings are skipped and recorded as such; a trigger still runs) or a handler
// (its jobs wait in storage until the resume). Every server of the app honours it within a second, and it survives
// restarts. An id with a '/' is given escaped as %2F.
app.MapPost("/fan-outs/{id}/{action:regex(^(pause|resume)$)}", (string id, string action, IFanOutControl control, CancellationToken cancellationToken) =>
    PauseOrResumeAsync(() => action == "pause"
        ? PausedAsync(control.PauseFanOutAsync(Uri.UnescapeDataString(id), cancellationToken))
        : ResumedAsync(control.ResumeFanOutAsync(Uri.UnescapeDataString(id), cancellationToken))));
app.MapPost("/handlers/{id}/{action:regex(^(pause|resume)$)}", (string id, string action, IFanOutControl control, CancellationToken cancellationToken) =>
    PauseOrResumeAsync(() => action == "pause"
        ? PausedAsync(control.PauseHandlerAsync(Uri.UnescapeDataString(id), cancellationToken))
        : ResumedAsync(control.ResumeHandlerAsync(Uri.UnescapeDataString(id), cancellationToken))));

// Sends a JSON array of account IDs as one run of an event; the catch-all route keeps the '/' in event names.
// An Idempotency-Key header makes the send idempotent: the same key within FanOut:IdempotencyWindow (24 hours by
// default) returns the first run's id and sends nothing more, from any server on the storage.
app.MapPost("/events/{**name}", async (
    string name,
    string[] accountIds,
    [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
    AccountStore accounts,
    IFanOutClient fanOut,
    CancellationToken cancellationToken) =>
{
    if (accountIds.FirstOrDefault(id => accounts.Find(id) is null) is { } unknown)
    {
        return Results.Problem($"There is no account {unknown}.", statusCode: StatusCodes.Status400BadRequest);
    }

    try
    {
        var eventName = Uri.UnescapeDataString(name); // also accepts the '/' escaped as %2F
        var items = accountIds.Select(id => AccountNotification.Of(accounts.Find(id)!));
        var options = new FanOutSendOptions { IdempotencyKey = idempotencyKey };
        return Results.Ok(new { runId = await fanOut.SendManyAsync(eventName, items, options, cancellationToken) });
    }
    catch (Exception ex) when (ex is ArgumentException or FanOutSendException)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }
});

// A run's progress (in flight counts the jobs waiting for their next retry too: Retrying says how many, NextRetryAt
// when the first is due), and a retry of its failed items (the Fan-out dashboard page has the same button).
app.MapGet("/runs/{runId}", async (string runId, IFanOutRuns runs, CancellationToken cancellationToken) =>
    await runs.GetAsync(runId, cancellationToken) is { } run
        ? Results.Ok(new
        {
            run.RunId,
            Status = run.Status.ToString(),
            run.DispatchedItems,
            run.Succeeded,
            run.Failed,
            run.Deleted,
            run.InFlight,
            run.Retrying,
            run.NextRetryAt,
            run.Completions,
            FailedItems = (await runs.GetFailedItemsAsync(run.RunId, 1000, cancellationToken)).Select(f => f.ItemKey),
        })
        : Results.NotFound());
app.MapPost("/runs/{runId}/retry-failed", async (string runId, IFanOutRuns runs, CancellationToken cancellationToken) =>
    Results.Ok(new { requeued = await runs.RetryFailedAsync(runId, cancellationToken) }));

// Cancels a run: its dispatch stops, its jobs not started yet are deleted, and its running calls see their token fire.
app.MapPost("/runs/{runId}/cancel", async (string runId, IFanOutRuns runs, CancellationToken cancellationToken) =>
    await runs.CancelAsync(runId, cancellationToken) is { Outcome: not FanOutCancelOutcome.NotFound } cancel
        ? Results.Ok(new { outcome = cancel.Outcome.ToString(), cancel.JobsDeleted, cancel.JobsWaiting })
        : Results.NotFound());

app.MapFakeSlack();

app.Run();

// An id nobody declared is not found; a resume of what configuration pauses conflicts (only configuration lifts it).
static async Task<IResult> PauseOrResumeAsync(Func<Task<IResult>> change)
{
    try
    {
        return await change();
    }
    catch (ArgumentException ex)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound);
    }
    catch (InvalidOperationException ex)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict);
    }
}

static async Task<IResult> PausedAsync(Task<FanOutPause> pause)
{
    var paused = await pause;
    return Results.Ok(new { paused.Id, paused.PausedAt, paused.ByConfiguration });
}

static async Task<IResult> ResumedAsync(Task<bool> resume) => Results.Ok(new { resumed = await resume });
