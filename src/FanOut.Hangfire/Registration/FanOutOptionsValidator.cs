using Cronos;
using Microsoft.Extensions.Options;

namespace FanOut.Hangfire.Registration;

/// <summary>Every option rule in one place; a failure names the fan-out or handler it is about.</summary>
internal sealed class FanOutOptionsValidator :
    IValidateOptions<FanOutOptions>,
    IValidateOptions<CronFanOutOptions>,
    IValidateOptions<FanOutHandlerOptions>,
    IValidateOptions<FanOutLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, FanOutOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.ChunkSize is < 1 or > 10_000)
        {
            result.AddError($"FanOutOptions.ChunkSize must be between 1 and 10000, not {options.ChunkSize}.");
        }

        if (options.MaxItemBytes is < 64 or > 1024 * 1024)
        {
            result.AddError($"FanOutOptions.MaxItemBytes must be between 64 and 1048576, not {options.MaxItemBytes}.");
        }

        if (options.DispatchLeaseDuration < TimeSpan.FromSeconds(5) || options.DispatchLeaseDuration > TimeSpan.FromHours(1))
        {
            result.AddError($"FanOutOptions.DispatchLeaseDuration must be between 5 seconds and 1 hour, not {options.DispatchLeaseDuration}.");
        }

        if (options.RunRetention <= TimeSpan.Zero)
        {
            result.AddError($"FanOutOptions.RunRetention must be positive, not {options.RunRetention}.");
        }

        if (options.CompletionCheckInterval < TimeSpan.FromMilliseconds(100) || options.CompletionCheckInterval > TimeSpan.FromMinutes(1))
        {
            result.AddError($"FanOutOptions.CompletionCheckInterval must be between 100 milliseconds and 1 minute, not {options.CompletionCheckInterval}.");
        }

        if (Names.QueueProblem(options.CompletionQueue) is { } queueProblem)
        {
            result.AddError($"FanOutOptions.CompletionQueue: the queue '{options.CompletionQueue}' {queueProblem}.");
        }

        if (options.IdempotencyWindow < TimeSpan.FromSeconds(1) || options.IdempotencyWindow > TimeSpan.FromDays(365))
        {
            result.AddError($"FanOutOptions.IdempotencyWindow must be between 1 second and 365 days, not {options.IdempotencyWindow}.");
        }

        AddRetryErrors(result, "FanOutOptions", "Dispatch", options.DispatchRetryAttempts, options.DispatchRetryDelays);
        AddJobLogErrors(result, options.JobLogs);
        return result.Build();
    }

    private static void AddJobLogErrors(ValidateOptionsResultBuilder result, FanOutJobLogOptions logs)
    {
        if (!Enum.IsDefined(logs.MinimumLevel))
        {
            result.AddError($"FanOutOptions.JobLogs.MinimumLevel '{logs.MinimumLevel}' is not a log level; use one of Trace, Debug, Information, Warning, Error, Critical or None (keeps nothing).");
        }

        if (logs.MaxEntries is < 1 or > 10_000)
        {
            result.AddError($"FanOutOptions.JobLogs.MaxEntries must be between 1 and 10000, not {logs.MaxEntries}.");
        }

        if (logs.MaxBytes is < 1024 or > 1024 * 1024)
        {
            result.AddError($"FanOutOptions.JobLogs.MaxBytes must be between 1024 and 1048576, not {logs.MaxBytes}.");
        }
    }

    public ValidateOptionsResult Validate(string? name, CronFanOutOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        var what = $"Cron fan-out '{name}'";

        var cronProblem = CronProblem(options.Cron);
        if (cronProblem is not null)
        {
            result.AddError($"{what}: the cron expression '{options.Cron}' is invalid: {cronProblem}");
        }

        if (TimeZoneProblem(options.TimeZone) is { } zoneProblem)
        {
            result.AddError($"{what}: {zoneProblem}");
        }

        if (Names.QueueProblem(options.Queue) is { } queueProblem)
        {
            result.AddError($"{what}: the queue '{options.Queue}' {queueProblem}.");
        }

        if (options.OverlapWaitTimeout <= TimeSpan.Zero)
        {
            result.AddError($"{what}: OverlapWaitTimeout must be positive, not {options.OverlapWaitTimeout}.");
        }

        if (!Enum.IsDefined(options.Overlap))
        {
            result.AddError($"{what}: Overlap '{options.Overlap}' is not one of Skip, Wait, BufferOne.");
        }

        if (!Enum.IsDefined(options.MisfireHandling))
        {
            result.AddError($"{what}: MisfireHandling '{options.MisfireHandling}' is not one of Relaxed, Strict, Ignorable.");
        }

        return result.Build();
    }

    public ValidateOptionsResult Validate(string? name, FanOutHandlerOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        var what = $"Handler '{name}'";
        if (Names.QueueProblem(options.Queue) is { } queueProblem)
        {
            result.AddError($"{what}: the queue '{options.Queue}' {queueProblem}.");
        }

        AddRetryErrors(result, what, string.Empty, options.RetryAttempts, options.RetryDelays);
        AddLimitErrors(result, what, options.ConcurrencyLimit, options.ConcurrencyLimitPerKey, options.Throttle);
        if (options.Limit is not null && Names.IdProblem(options.Limit) is { } limitProblem)
        {
            result.AddError($"{what}: Limit '{options.Limit}' {limitProblem}.");
        }

        if (options.Limit is not null && (options.ConcurrencyLimit is not null || options.ConcurrencyLimitPerKey is not null || options.Throttle.PermitLimit is not null))
        {
            result.AddError($"{what} uses the shared limit '{options.Limit}' and sets limits of its own (ConcurrencyLimit, ConcurrencyLimitPerKey or Throttle.PermitLimit); set them on the shared limit, or drop Limit.");
        }

        if (options.MaxBatchSize is < 1 or > HandlerBatch.MaxSizeLimit)
        {
            result.AddError($"{what}: MaxBatchSize must be between 1 and {HandlerBatch.MaxSizeLimit}, not {options.MaxBatchSize}.");
        }

        return result.Build();
    }

    public ValidateOptionsResult Validate(string? name, FanOutLimitOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        var what = $"Limit '{name}'";
        AddLimitErrors(result, what, options.ConcurrencyLimit, options.ConcurrencyLimitPerKey, options.Throttle);
        if (options.ConcurrencyLimit is null && options.ConcurrencyLimitPerKey is null && options.Throttle.PermitLimit is null)
        {
            result.AddError($"{what} limits nothing: set ConcurrencyLimit, ConcurrencyLimitPerKey or Throttle.PermitLimit.");
        }

        return result.Build();
    }

    private static void AddLimitErrors(ValidateOptionsResultBuilder result, string what, int? concurrency, int? perKey, FanOutThrottleOptions throttle)
    {
        const int Max = 100_000;
        if (concurrency is < 1 or > Max)
        {
            result.AddError($"{what}: ConcurrencyLimit must be between 1 and {Max}, not {concurrency}.");
        }

        if (perKey is < 1 or > Max)
        {
            result.AddError($"{what}: ConcurrencyLimitPerKey must be between 1 and {Max}, not {perKey}.");
        }

        if (concurrency is { } global && perKey is { } keyed && keyed > global)
        {
            result.AddError($"{what}: ConcurrencyLimitPerKey ({keyed}) is more than ConcurrencyLimit ({global}); a key can never use more than the whole limit.");
        }

        if (throttle.PermitLimit is < 1 or > Max)
        {
            result.AddError($"{what}: Throttle.PermitLimit must be between 1 and {Max}, not {throttle.PermitLimit}.");
        }

        if (throttle.Window < TimeSpan.FromMilliseconds(100) || throttle.Window > TimeSpan.FromDays(1))
        {
            result.AddError($"{what}: Throttle.Window must be between 100 milliseconds and 1 day, not {throttle.Window}.");
        }

        if (throttle.Burst is < 1 or > Max)
        {
            result.AddError($"{what}: Throttle.Burst must be between 1 and {Max}, not {throttle.Burst}.");
        }
    }

    public static CronExpression ParseCron(string expression)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CronExpression.Parse(expression, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
    }

    public static TimeZoneInfo FindTimeZone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    private static string? CronProblem(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return "it is empty.";
        }

        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (!expression.StartsWith('@') && fields is not (5 or 6))
        {
            return $"it has {fields} fields; use 5 (minute hour day month weekday) or 6 (seconds first).";
        }

        try
        {
            ParseCron(expression);
            return null;
        }
        catch (CronFormatException ex)
        {
            return ex.Message;
        }
    }

    private static string? TimeZoneProblem(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return "the time zone is empty.";
        }

        try
        {
            FindTimeZone(id);
            return null;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return $"the time zone '{id}' is unknown on this machine; use an IANA id such as 'Europe/Paris'.";
        }
    }

    private static void AddRetryErrors(ValidateOptionsResultBuilder result, string what, string prefix, int attempts, IList<TimeSpan> delays)
    {
        if (attempts < 0)
        {
            result.AddError($"{what}: {prefix}RetryAttempts must be zero or more, not {attempts}.");
        }

        foreach (var delay in delays)
        {
            if (delay < TimeSpan.Zero)
            {
                result.AddError($"{what}: {prefix}RetryDelays must not be negative, not {delay}.");
            }
        }
    }
}
