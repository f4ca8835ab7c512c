namespace FanOut.Hangfire.Registration;

/// <summary>Recurring job ids the library owns start with this prefix; no other recurring job is ever touched.</summary>
internal static class RecurringJobIds
{
    public const string Prefix = "fanout:";

    public static string For(string fanOutId) => Prefix + fanOutId;

    public static bool IsOwned(string recurringJobId) => recurringJobId.StartsWith(Prefix, StringComparison.Ordinal);
}
