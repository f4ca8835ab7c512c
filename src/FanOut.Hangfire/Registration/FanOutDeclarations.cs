namespace FanOut.Hangfire.Registration;

/// <summary>What Program.cs declared: the cron fan-outs and handlers, in declaration order.</summary>
internal sealed class FanOutDeclarations
{
    private readonly List<CronDeclaration> _crons = [];
    private readonly List<HandlerDeclaration> _handlers = [];
    private readonly List<CompletionDeclaration> _completions = [];
    private readonly List<string> _limits = [];

    public IReadOnlyList<CronDeclaration> Crons => _crons;

    public IReadOnlyList<HandlerDeclaration> Handlers => _handlers;

    public IReadOnlyList<CompletionDeclaration> Completions => _completions;

    public IReadOnlyList<string> Limits => _limits;

    public void AddLimit(string name)
    {
        if (_limits.Any(l => string.Equals(l, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"A limit named '{name}' is already declared; names must be unique.", nameof(name));
        }

        _limits.Add(name);
    }

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

    public void Add(CompletionDeclaration completion)
    {
        if (_completions.Any(c => string.Equals(c.Of, completion.Of, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"A completion handler for '{completion.Of}' is already declared; each fan-out or event has at most one.", "of");
        }

        _completions.Add(completion);
    }
}

internal sealed record CronDeclaration(string Id, string EventName, Type SourceType, Type ItemType);

internal sealed record HandlerDeclaration(string Id, string EventName, Type HandlerType, Type ItemType)
{
    /// <summary>Whether the handler takes batches (<c>AddBatchHandler</c>) rather than one item a call.</summary>
    public bool IsBatch { get; init; }
}

internal sealed record CompletionDeclaration(string Of, Type HandlerType);
