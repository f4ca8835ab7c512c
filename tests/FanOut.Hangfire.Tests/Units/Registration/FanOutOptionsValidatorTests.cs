using FanOut.Hangfire.Registration;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>Every option rule, at both sides of each bound; a failure names the option (and its owner) and the value.</summary>
public sealed class FanOutOptionsValidatorTests
{
    private static readonly FanOutOptionsValidator Validator = new();

    private static readonly Dictionary<string, (Action<FanOutOptions> Set, string[] Named)> OutOfBounds = new()
    {
        ["ChunkSize 0"] = (o => o.ChunkSize = 0, ["FanOutOptions.ChunkSize must be between 1 and 10000", "not 0"]),
        ["ChunkSize 10001"] = (o => o.ChunkSize = 10_001, ["FanOutOptions.ChunkSize", "not 10001"]),
        ["MaxItemBytes 63"] = (o => o.MaxItemBytes = 63, ["FanOutOptions.MaxItemBytes must be between 64 and 1048576", "not 63"]),
        ["MaxItemBytes 1 MiB + 1"] = (o => o.MaxItemBytes = (1024 * 1024) + 1, ["FanOutOptions.MaxItemBytes", "not 1048577"]),
        ["DispatchLeaseDuration just under 5 s"] = (o => o.DispatchLeaseDuration = TimeSpan.FromMilliseconds(4_999), ["FanOutOptions.DispatchLeaseDuration must be between 5 seconds and 1 hour", "not 00:00:04.9990000"]),
        ["DispatchLeaseDuration just over 1 h"] = (o => o.DispatchLeaseDuration = TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1), ["FanOutOptions.DispatchLeaseDuration", "not 01:00:01"]),
        ["RunRetention zero"] = (o => o.RunRetention = TimeSpan.Zero, ["FanOutOptions.RunRetention must be positive", "not 00:00:00"]),
        ["RunRetention negative"] = (o => o.RunRetention = TimeSpan.FromDays(-1), ["FanOutOptions.RunRetention", "not -1.00:00:00"]),
        ["CompletionCheckInterval 99 ms"] = (o => o.CompletionCheckInterval = TimeSpan.FromMilliseconds(99), ["FanOutOptions.CompletionCheckInterval must be between 100 milliseconds and 1 minute", "not 00:00:00.0990000"]),
        ["CompletionCheckInterval just over 1 min"] = (o => o.CompletionCheckInterval = TimeSpan.FromSeconds(61), ["FanOutOptions.CompletionCheckInterval", "not 00:01:01"]),
        ["CompletionQueue upper case"] = (o => o.CompletionQueue = "Completions", ["FanOutOptions.CompletionQueue: the queue 'Completions' contains 'C'"]),
        ["CompletionQueue empty"] = (o => o.CompletionQueue = string.Empty, ["FanOutOptions.CompletionQueue: the queue '' is empty"]),
        ["DispatchRetryAttempts negative"] = (o => o.DispatchRetryAttempts = -1, ["FanOutOptions: DispatchRetryAttempts must be zero or more, not -1"]),
        ["DispatchRetryDelays negative"] = (o => o.DispatchRetryDelays.Add(TimeSpan.FromSeconds(-1)), ["FanOutOptions: DispatchRetryDelays must not be negative, not -00:00:01"]),
        ["IdempotencyWindow just under 1 s"] = (o => o.IdempotencyWindow = TimeSpan.FromMilliseconds(999), ["FanOutOptions.IdempotencyWindow must be between 1 second and 365 days", "not 00:00:00.9990000"]),
        ["IdempotencyWindow just over 365 days"] = (o => o.IdempotencyWindow = TimeSpan.FromDays(365) + TimeSpan.FromSeconds(1), ["FanOutOptions.IdempotencyWindow", "not 365.00:00:01"]),
        ["JobLogs.MaxEntries 0"] = (o => o.JobLogs.MaxEntries = 0, ["FanOutOptions.JobLogs.MaxEntries must be between 1 and 10000", "not 0"]),
        ["JobLogs.MaxEntries 10001"] = (o => o.JobLogs.MaxEntries = 10_001, ["FanOutOptions.JobLogs.MaxEntries", "not 10001"]),
        ["JobLogs.MaxBytes 1023"] = (o => o.JobLogs.MaxBytes = 1023, ["FanOutOptions.JobLogs.MaxBytes must be between 1024 and 1048576", "not 1023"]),
        ["JobLogs.MaxBytes 1 MiB + 1"] = (o => o.JobLogs.MaxBytes = (1024 * 1024) + 1, ["FanOutOptions.JobLogs.MaxBytes", "not 1048577"]),
        ["JobLogs.MinimumLevel undefined"] = (o => o.JobLogs.MinimumLevel = (Microsoft.Extensions.Logging.LogLevel)42, ["FanOutOptions.JobLogs.MinimumLevel '42' is not a log level"]),
    };

    private static readonly Dictionary<string, Action<FanOutOptions>> AtTheBounds = new()
    {
        ["ChunkSize 1"] = o => o.ChunkSize = 1,
        ["ChunkSize 10000"] = o => o.ChunkSize = 10_000,
        ["MaxItemBytes 64"] = o => o.MaxItemBytes = 64,
        ["MaxItemBytes 1 MiB"] = o => o.MaxItemBytes = 1024 * 1024,
        ["DispatchLeaseDuration 5 s"] = o => o.DispatchLeaseDuration = TimeSpan.FromSeconds(5),
        ["DispatchLeaseDuration 1 h"] = o => o.DispatchLeaseDuration = TimeSpan.FromHours(1),
        ["RunRetention one tick"] = o => o.RunRetention = TimeSpan.FromTicks(1),
        ["CompletionCheckInterval 100 ms"] = o => o.CompletionCheckInterval = TimeSpan.FromMilliseconds(100),
        ["CompletionCheckInterval 1 min"] = o => o.CompletionCheckInterval = TimeSpan.FromMinutes(1),
        ["CompletionQueue with digits, '_' and '-'"] = o => o.CompletionQueue = "completions_2-eu",
        ["DispatchRetryAttempts 0"] = o => o.DispatchRetryAttempts = 0,
        ["DispatchRetryDelays zero"] = o => o.DispatchRetryDelays.Add(TimeSpan.Zero),
        ["IdempotencyWindow 1 s"] = o => o.IdempotencyWindow = TimeSpan.FromSeconds(1),
        ["IdempotencyWindow 365 days"] = o => o.IdempotencyWindow = TimeSpan.FromDays(365),
        ["JobLogs.MaxEntries 1"] = o => o.JobLogs.MaxEntries = 1,
        ["JobLogs.MaxEntries 10000"] = o => o.JobLogs.MaxEntries = 10_000,
        ["JobLogs.MaxBytes 1 KiB"] = o => o.JobLogs.MaxBytes = 1024,
        ["JobLogs.MaxBytes 1 MiB"] = o => o.JobLogs.MaxBytes = 1024 * 1024,
        ["JobLogs.MinimumLevel None (off)"] = o => o.JobLogs.MinimumLevel = Microsoft.Extensions.Logging.LogLevel.None,
    };

    public static TheoryData<string> OutOfBoundsCases => [.. OutOfBounds.Keys];

    public static TheoryData<string> AtTheBoundsCases => [.. AtTheBounds.Keys];

    [Fact]
    public void Validate_DefaultFanOutOptions_Succeeds() =>
        Validator.Validate(null, new FanOutOptions()).Succeeded.Should().BeTrue();

    [Theory]
    [MemberData(nameof(OutOfBoundsCases))]
    public void Validate_FanOutOptionOutOfBounds_FailsNamingTheOptionAndValue(string @case)
    {
        var (set, named) = OutOfBounds[@case];
        var options = new FanOutOptions();
        set(options);

        var result = Validator.Validate(null, options);

        result.Failed.Should().BeTrue();
        result.Failures.Should().ContainSingle().Which.Should().ContainAll(named);
    }

    [Theory]
    [MemberData(nameof(AtTheBoundsCases))]
    public void Validate_FanOutOptionAtItsBound_Succeeds(string @case)
    {
        var options = new FanOutOptions();
        AtTheBounds[@case](options);

        Validator.Validate(null, options).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Validate_SeveralFanOutOptionsOutOfBounds_ReportsEachOne()
    {
        var options = new FanOutOptions { ChunkSize = 0, MaxItemBytes = 1, CompletionQueue = "A", DispatchRetryAttempts = -2 };

        var failures = Validator.Validate(null, options).Failures;

        failures.Should().HaveCount(4);
        failures.Should().Contain(f => f.Contains("ChunkSize", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("MaxItemBytes", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("CompletionQueue", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("DispatchRetryAttempts", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0 3 * * *")]
    [InlineData("*/10 * * * * *")]
    [InlineData("@daily")]
    public void Validate_CronFanOutWithAValidCron_Succeeds(string cron) =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = cron }).Succeeded.Should().BeTrue();

    [Theory]
    [InlineData("", "it is empty.")]
    [InlineData("  ", "it is empty.")]
    [InlineData("* * * *", "it has 4 fields; use 5 (minute hour day month weekday) or 6 (seconds first).")]
    [InlineData("0 0 3 * * * *", "it has 7 fields")]
    [InlineData("61 * * * *", "")]
    public void Validate_CronFanOutWithAnInvalidCron_FailsNamingTheFanOutAndExpression(string cron, string problem) =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = cron }).Failures.Should().ContainSingle()
            .Which.Should().StartWith($"Cron fan-out 'nightly': the cron expression '{cron}' is invalid: {problem}");

    [Fact]
    public void Validate_CronFanOutInAnIanaTimeZone_Succeeds() =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = "0 3 * * *", TimeZone = "Europe/Paris" }).Succeeded.Should().BeTrue();

    [Theory]
    [InlineData("", "Cron fan-out 'nightly': the time zone is empty.")]
    [InlineData("Mars/Olympus_Mons", "Cron fan-out 'nightly': the time zone 'Mars/Olympus_Mons' is unknown on this machine")]
    public void Validate_CronFanOutWithABadTimeZone_FailsNamingTheFanOutAndZone(string zone, string failure) =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = "0 3 * * *", TimeZone = zone }).Failures.Should().ContainSingle()
            .Which.Should().StartWith(failure);

    [Fact]
    public void Validate_CronFanOutWithAnInvalidQueue_FailsNamingTheFanOutAndQueue() =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = "0 3 * * *", Queue = "Nightly" }).Failures.Should().ContainSingle()
            .Which.Should().StartWith("Cron fan-out 'nightly': the queue 'Nightly' contains 'N'");

    [Fact]
    public void Validate_CronFanOutWithNoOverlapWait_FailsNamingTheFanOut() =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = "0 3 * * *", OverlapWaitTimeout = TimeSpan.Zero }).Failures.Should().ContainSingle()
            .Which.Should().Be("Cron fan-out 'nightly': OverlapWaitTimeout must be positive, not 00:00:00.");

    [Fact]
    public void Validate_CronFanOutWithAnUndefinedOverlap_FailsNamingTheValue() =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = "0 3 * * *", Overlap = (FanOutOverlap)7 }).Failures.Should().ContainSingle()
            .Which.Should().Be("Cron fan-out 'nightly': Overlap '7' is not one of Skip, Wait, BufferOne.");

    [Fact]
    public void Validate_CronFanOutWithAnUndefinedMisfireHandling_FailsNamingTheValue() =>
        Validator.Validate("nightly", new CronFanOutOptions { Cron = "0 3 * * *", MisfireHandling = (FanOutMisfireHandling)9 }).Failures.Should().ContainSingle()
            .Which.Should().Be("Cron fan-out 'nightly': MisfireHandling '9' is not one of Relaxed, Strict, Ignorable.");

    [Fact]
    public void Validate_DefaultHandlerOptions_Succeed() =>
        Validator.Validate("send-slack", new FanOutHandlerOptions()).Succeeded.Should().BeTrue();

    [Fact]
    public void Validate_HandlerWithAnInvalidQueue_FailsNamingTheHandlerAndQueue() =>
        Validator.Validate("send-slack", new FanOutHandlerOptions { Queue = "slack.eu" }).Failures.Should().ContainSingle()
            .Which.Should().StartWith("Handler 'send-slack': the queue 'slack.eu' contains '.'");

    [Fact]
    public void Validate_HandlerWithNegativeRetryAttempts_FailsNamingTheHandlerAndValue() =>
        Validator.Validate("send-slack", new FanOutHandlerOptions { RetryAttempts = -1 }).Failures.Should().ContainSingle()
            .Which.Should().Be("Handler 'send-slack': RetryAttempts must be zero or more, not -1.");

    [Fact]
    public void Validate_HandlerWithANegativeRetryDelay_FailsNamingTheHandlerAndDelay()
    {
        var options = new FanOutHandlerOptions();
        options.RetryDelays.Add(TimeSpan.FromSeconds(5));
        options.RetryDelays.Add(TimeSpan.FromMilliseconds(-500));

        Validator.Validate("send-slack", options).Failures.Should().ContainSingle()
            .Which.Should().Be("Handler 'send-slack': RetryDelays must not be negative, not -00:00:00.5000000.");
    }
}
