namespace FanOut.Hangfire.Registration;

/// <summary>An event: its item type and the handlers listening to it, in declaration order.</summary>
internal sealed record RegisteredEvent(string Name, Type ItemType, IReadOnlyList<RegisteredHandler> Handlers)
{
    /// <summary>The ids of the event's batch handlers, recorded with each run so its counts read items (<c>Runs.RunStore</c>).</summary>
    public IEnumerable<string> BatchHandlerIds => Handlers.Where(h => h.Batch is not null).Select(h => h.Id);
}
