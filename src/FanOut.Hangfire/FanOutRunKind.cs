namespace FanOut.Hangfire;

/// <summary>What started a run.</summary>
public enum FanOutRunKind
{
    /// <summary>A cron fan-out firing, or a trigger of one (<see cref="IFanOutClient.TriggerAsync(string, CancellationToken)"/>, "Trigger now").</summary>
    Cron = 0,

    /// <summary>A send through <see cref="IFanOutClient"/>.</summary>
    Send = 1,
}
