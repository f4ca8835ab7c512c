using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// The fan-outs every test host declares, so that every server on a storage declares the same ones. Tests switch them
/// on and change their schedules through configuration (<c>--FanOut:CronFanOuts:{id}:Cron=...</c>).
/// </summary>
internal static class HostFanOuts
{
    /// <summary>A fan-out that only fires when triggered (its cron is once a year).</summary>
    public const string Items = "items";

    /// <summary>A fan-out whose firings skip while a dispatch runs; disabled unless configured.</summary>
    public const string SlowSkip = "slow-skip";

    /// <summary>A fan-out whose firings wait for the running dispatch; disabled unless configured.</summary>
    public const string SlowWait = "slow-wait";

    public const string Event = "items/due";
    public const string FirstHandler = "first";
    public const string SecondHandler = "second";
    public const string DispatchQueue = "dispatch";
    public const string ItemQueue = "items";

    private const string Yearly = "0 0 1 1 *";

    public static void Declare(IFanOutBuilder fanOut, HostSettings settings)
    {
        switch (settings.Dispatch)
        {
            case HostSettings.PostgreSqlDispatch:
                fanOut.UsePostgreSqlDispatch();
                break;
            case HostSettings.GenericDispatch:
                break;
            default:
                throw new InvalidOperationException($"Host:Dispatch is '{settings.Dispatch}'; use '{HostSettings.GenericDispatch}' or '{HostSettings.PostgreSqlDispatch}'.");
        }

        fanOut
            .AddCron<JournalSource>(Items, Yearly, sends: Event, o => o.Queue = DispatchQueue)
            .AddCron<JournalSource>(SlowSkip, Yearly, sends: Event, o =>
            {
                o.Queue = DispatchQueue;
                o.Enabled = false;
                o.Overlap = FanOutOverlap.Skip;
            })
            .AddCron<JournalSource>(SlowWait, Yearly, sends: Event, o =>
            {
                o.Queue = DispatchQueue;
                o.Enabled = false;
                o.Overlap = FanOutOverlap.Wait;
            });
        if (settings.BatchSize is { } batchSize)
        {
            fanOut.AddBatchHandler<JournalBatchHandler>(FirstHandler, on: Event, o =>
            {
                Configure(o, settings);
                o.MaxBatchSize = batchSize;
            });
        }
        else
        {
            fanOut.AddHandler<JournalHandler>(FirstHandler, on: Event, o => Configure(o, settings));
        }

        if (settings.Handlers > 1)
        {
            fanOut.AddHandler<JournalHandler>(SecondHandler, on: Event, o => Configure(o, settings));
        }
    }

    /// <summary>The concurrency key of an item: its text before the first '-'.</summary>
    public static string KeyOf(string item) => item.Split('-')[0];

    private static void Configure(FanOutHandlerOptions options, HostSettings settings)
    {
        RetryQuickly(options);
        options.ConcurrencyLimit = settings.ConcurrencyLimit;
        if (settings.ConcurrencyLimitPerKey is { } perKey)
        {
            options.ConcurrencyLimitPerKey = perKey;
            options.UseConcurrencyKey<string>(KeyOf);
        }
    }

    // A handler failing while the database is away retries within seconds, not Hangfire's minutes.
    private static void RetryQuickly(FanOutHandlerOptions options)
    {
        options.Queue = ItemQueue;
        options.RetryAttempts = 20;
        options.RetryDelays.Add(TimeSpan.FromSeconds(1));
    }
}
