namespace FanOut.Hangfire.Registration;

/// <summary>
/// An item whose limit key cannot be computed (its key function threw, or returned null, empty or too long a key). Its
/// job fails with it at once, with no retry: the same item gives the same key again.
/// </summary>
internal sealed class LimitKeyException(string message) : InvalidOperationException(message);
