namespace FanOut.Hangfire.Flow;

#pragma warning disable FANOUT0001 // The library's own implementation of its experimental seam.

/// <summary>The default state-change writer: Hangfire's own API, on the storage's own connection.</summary>
internal sealed class HangfireStateChangeWriter : IFanOutStateChangeWriter
{
    public void Write(FanOutStateChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        changes.Apply(changes.Connection);
    }
}
