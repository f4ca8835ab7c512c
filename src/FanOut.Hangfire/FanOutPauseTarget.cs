namespace FanOut.Hangfire;

/// <summary>What a <see cref="FanOutPause"/> pauses.</summary>
public enum FanOutPauseTarget
{
    /// <summary>A cron fan-out: its firings are skipped.</summary>
    CronFanOut = 0,

    /// <summary>A handler: its jobs wait.</summary>
    Handler = 1,
}
