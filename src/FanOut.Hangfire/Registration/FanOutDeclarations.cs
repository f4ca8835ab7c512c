namespace FanOut.Hangfire.Registration;

/// <summary>What Program.cs declared: the cron fan-outs and handlers, in declaration order.</summary>
internal sealed class FanOutDeclarations
{
    private readonly List<CronDeclaration> _crons = [];
    private readonly List<HandlerDeclaration> _handlers = [];

    public IReadOnlyList<CronDeclaration> Crons => _crons;

    public IReadOnlyList<HandlerDeclaration> Handlers => _handlers;

    public void Add(CronDeclaration cron)
    {
        if (_crons.Any(c => string.Equals(c.Id, cron.Id, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"A cron fan-out with the id '{cron.Id}' is already declared; ids must be unique.", "id");
        }

        _crons.Add(cron);
    }

    public void Add(HandlerDeclaration handler)
    {
        if (_handlers.Any(h => string.Equals(h.Id, handler.Id, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"A handler with the id '{handler.Id}' is already declared; ids must be unique.", "id");
        }

        _handlers.Add(handler);
    }
}

internal sealed record CronDeclaration(string Id, string EventName, Type SourceType, Type ItemType);

internal sealed record HandlerDeclaration(string Id, string EventName, Type HandlerType, Type ItemType);
