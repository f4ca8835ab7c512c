namespace FanOut.Hangfire;

/// <summary>An event with the handlers listening to it.</summary>
public sealed class FanOutEventInfo
{
    internal FanOutEventInfo(string name, Type itemType, IReadOnlyList<FanOutHandlerInfo> handlers, Type? completionHandlerType)
    {
        Name = name;
        ItemType = itemType;
        Handlers = handlers;
        CompletionHandlerType = completionHandlerType;
    }

    /// <summary>Gets the event's name.</summary>
    public string Name { get; }

    /// <summary>Gets the item type its handlers take.</summary>
    public Type ItemType { get; }

    /// <summary>Gets its handlers, in declaration order.</summary>
    public IReadOnlyList<FanOutHandlerInfo> Handlers { get; }

    /// <summary>Gets the class of the completion handler of its sends, or null when none is declared.</summary>
    public Type? CompletionHandlerType { get; }
}
