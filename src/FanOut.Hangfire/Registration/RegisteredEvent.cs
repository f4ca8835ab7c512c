namespace FanOut.Hangfire.Registration;

/// <summary>An event: its item type and the handlers listening to it, in declaration order.</summary>
internal sealed record RegisteredEvent(string Name, Type ItemType, IReadOnlyList<RegisteredHandler> Handlers);
