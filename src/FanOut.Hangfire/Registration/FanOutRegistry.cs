using FanOut.Hangfire.Items;
using Microsoft.Extensions.Options;

namespace FanOut.Hangfire.Registration;

/// <summary>
/// The declarations of Program.cs resolved against their options and checked as a whole. Building it throws one
/// exception listing every problem, each naming its fan-out, handler or event.
/// </summary>
internal sealed class FanOutRegistry
{
    private readonly Dictionary<string, RegisteredCron> _crons = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RegisteredHandler> _handlers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RegisteredEvent> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Type> _completionHandlers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RegisteredLimit> _limits = new(StringComparer.Ordinal);

    public FanOutRegistry(
        FanOutDeclarations declarations,
        IOptions<FanOutOptions> options,
        IOptionsMonitor<CronFanOutOptions> cronOptions,
        IOptionsMonitor<FanOutHandlerOptions> handlerOptions,
        IOptionsMonitor<FanOutLimitOptions> limitOptions)
    {
        var problems = new List<string>();
        Options = Resolve(() => options.Value, problems) ?? new FanOutOptions();
        DispatchRetry = RetryPolicies.Create(Options.DispatchRetryAttempts, Options.DispatchRetryDelays);

        var shared = new Dictionary<string, RegisteredLimit>(StringComparer.Ordinal);
        foreach (var name in declarations.Limits)
        {
            if (Resolve(() => limitOptions.Get(name), problems) is { } limit)
            {
                shared.Add(name, LimitFrom(name, shared: true, limit.ConcurrencyLimit, limit.ConcurrencyLimitPerKey, limit.Throttle));
            }
        }

        foreach (var declaration in declarations.Handlers)
        {
            var handler = ResolveHandler(declaration, handlerOptions, shared, problems);
            if (handler is not null)
            {
                _handlers.Add(handler.Id, handler);
                if (handler.Limit is { } handlerLimit)
                {
                    _limits.TryAdd(handlerLimit.Budget.StorageId, handlerLimit.Budget);
                }
            }
        }

        foreach (var unused in shared.Keys.Where(name => !_limits.ContainsKey(shared[name].StorageId)))
        {
            problems.Add($"Limit '{unused}' is declared, but no handler uses it; set Limit = \"{unused}\" on the handlers that share it, or remove it.");
        }

        foreach (var group in _handlers.Values.GroupBy(h => h.EventName, StringComparer.Ordinal))
        {
            var handlers = group.ToList();
            var itemTypes = handlers.Select(h => h.ItemType).Distinct().ToList();
            if (itemTypes.Count > 1)
            {
                problems.Add($"Event '{group.Key}': its handlers take different item types ({string.Join(", ", handlers.Select(h => $"'{h.Id}' takes {h.ItemType.Name}"))}); all handlers of an event take the same type.");
            }

            _events.Add(group.Key, new RegisteredEvent(group.Key, itemTypes[0], handlers));
        }

        foreach (var declaration in declarations.Crons)
        {
            var cron = ResolveCron(declaration, cronOptions, problems);
            if (cron is not null)
            {
                _crons.Add(cron.Id, cron);
            }
        }

        foreach (var completion in declarations.Completions)
        {
            if (!_crons.ContainsKey(completion.Of) && !_events.ContainsKey(completion.Of))
            {
                problems.Add($"Completion handler {completion.HandlerType.Name} is for '{completion.Of}', which is neither a declared cron fan-out nor an event a handler listens to.");
            }

            _completionHandlers[completion.Of] = completion.HandlerType;
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                "FanOut.Hangfire configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => " - " + p)));
        }
    }

    public FanOutOptions Options { get; }

    public global::Hangfire.AutomaticRetryAttribute DispatchRetry { get; }

    public IReadOnlyCollection<RegisteredCron> Crons => _crons.Values;

    public IReadOnlyCollection<RegisteredHandler> Handlers => _handlers.Values;

    public IReadOnlyCollection<RegisteredEvent> Events => _events.Values;

    public RegisteredCron? FindCron(string id) => _crons.GetValueOrDefault(id);

    public RegisteredHandler? FindHandler(string id) => _handlers.GetValueOrDefault(id);

    /// <summary>The budgets in use, each once, by storage id: the handlers' own limits and the shared ones.</summary>
    public IReadOnlyCollection<RegisteredLimit> Limits => _limits.Values;

    public RegisteredLimit? FindLimit(string storageId) => _limits.GetValueOrDefault(storageId);

    public RegisteredEvent? FindEvent(string name) => _events.GetValueOrDefault(name);

    /// <summary>The completion handler for the runs of a cron fan-out or event, if one is declared.</summary>
    public Type? FindCompletionHandler(string name) => _completionHandlers.GetValueOrDefault(name);

    public IReadOnlyCollection<KeyValuePair<string, Type>> CompletionHandlers => _completionHandlers;

    public ItemEncoder EncoderFor(RegisteredEvent @event) => new(@event.Name, @event.ItemType, Options.MaxItemBytes);

    private static RegisteredHandler? ResolveHandler(
        HandlerDeclaration declaration,
        IOptionsMonitor<FanOutHandlerOptions> monitor,
        Dictionary<string, RegisteredLimit> shared,
        List<string> problems)
    {
        var options = Resolve(() => monitor.Get(declaration.Id), problems);
        if (ItemJson.RoundTripProblem(declaration.ItemType) is { } problem)
        {
            problems.Add($"Handler '{declaration.Id}': its item type {declaration.ItemType.FullName} does not survive a JSON round trip: {problem}");
        }

        if (options is null)
        {
            return null;
        }

        var invoker = (IHandlerInvoker)Activator.CreateInstance(
            typeof(HandlerInvoker<>).MakeGenericType(declaration.ItemType), declaration.HandlerType)!;
        return new RegisteredHandler(
            declaration.Id,
            declaration.EventName,
            declaration.HandlerType,
            declaration.ItemType,
            options,
            invoker,
            RetryPolicies.Create(options.RetryAttempts, options.RetryDelays),
            ResolveLimit(declaration, options, shared, problems),
            ResolveBatch(declaration, options, problems));
    }

    private static HandlerBatch? ResolveBatch(HandlerDeclaration declaration, FanOutHandlerOptions options, List<string> problems)
    {
        var what = $"Handler '{declaration.Id}'";
        if (!declaration.IsBatch)
        {
            if (options.MaxBatchSize is not null || options.BatchKey is not null)
            {
                problems.Add($"{what} sets {(options.MaxBatchSize is not null ? "MaxBatchSize" : "a batch key (UseBatchKey)")}, which only a batch handler has; declare it with AddBatchHandler, or remove the option.");
            }

            return null;
        }

        if (options.BatchKey is { } key && !key.ItemType.IsAssignableFrom(declaration.ItemType))
        {
            problems.Add($"{what}: UseBatchKey<{key.ItemType.Name}> takes {key.ItemType.Name}, but the handler's items are {declaration.ItemType.Name}.");
            return null;
        }

        var invoker = (IBatchHandlerInvoker)Activator.CreateInstance(
            typeof(BatchHandlerInvoker<>).MakeGenericType(declaration.ItemType), declaration.HandlerType)!;
        return new HandlerBatch(options.MaxBatchSize ?? HandlerBatch.DefaultMaxSize, declaration.ItemType, options.BatchKey?.Of, invoker);
    }

    private static HandlerLimit? ResolveLimit(
        HandlerDeclaration declaration,
        FanOutHandlerOptions options,
        Dictionary<string, RegisteredLimit> shared,
        List<string> problems)
    {
        var what = $"Handler '{declaration.Id}'";
        RegisteredLimit? budget = null;
        if (options.Limit is { } name)
        {
            if (!shared.TryGetValue(name, out budget))
            {
                problems.Add($"{what} uses the limit '{name}', which is not declared; declare it with AddLimit(\"{name}\", ...).");
                return null;
            }
        }
        else if (options.ConcurrencyLimit is not null || options.ConcurrencyLimitPerKey is not null || options.Throttle.PermitLimit is not null)
        {
            budget = LimitFrom(declaration.Id, shared: false, options.ConcurrencyLimit, options.ConcurrencyLimitPerKey, options.Throttle);
        }

        foreach (var (key, which) in new[] { (options.ConcurrencyKey, "UseConcurrencyKey"), (options.ThrottleKey, "UseThrottleKey") })
        {
            if (key is { } selector && !selector.ItemType.IsAssignableFrom(declaration.ItemType))
            {
                problems.Add($"{what}: {which}<{selector.ItemType.Name}> takes {selector.ItemType.Name}, but the handler's items are {declaration.ItemType.Name}.");
                return null;
            }
        }

        if (budget is null)
        {
            if (options.ConcurrencyKey is not null || options.ThrottleKey is not null)
            {
                problems.Add($"{what} sets a limit key but no limit: set ConcurrencyLimitPerKey or Throttle.PermitLimit (or Limit), or remove the key.");
            }

            return null;
        }

        var limitName = budget.Shared ? $"the limit '{budget.Name}'" : "its ConcurrencyLimitPerKey";
        if (budget.ConcurrencyLimitPerKey is not null && options.ConcurrencyKey is null)
        {
            problems.Add($"{what}: {limitName} limits calls per key, but the handler has no key; set one with UseConcurrencyKey<{declaration.ItemType.Name}>(item => ...).");
            return null;
        }

        if (budget.ConcurrencyLimitPerKey is null && options.ConcurrencyKey is not null)
        {
            problems.Add($"{what} sets a concurrency key, but {(budget.Shared ? $"the limit '{budget.Name}'" : "the handler")} has no ConcurrencyLimitPerKey; set one, or remove the key.");
            return null;
        }

        if (budget.ThrottlePermitLimit is null && options.ThrottleKey is not null)
        {
            problems.Add($"{what} sets a throttle key, but {(budget.Shared ? $"the limit '{budget.Name}'" : "the handler")} has no Throttle.PermitLimit; set one, or remove the key.");
            return null;
        }

        return new HandlerLimit(budget, declaration.ItemType, options.ConcurrencyKey?.Of, options.ThrottleKey?.Of);
    }

    private static RegisteredLimit LimitFrom(string name, bool shared, int? concurrency, int? perKey, FanOutThrottleOptions throttle) =>
        new(name, shared, concurrency, perKey, throttle.PermitLimit, throttle.Window, throttle.Burst);

    private RegisteredCron? ResolveCron(
        CronDeclaration declaration,
        IOptionsMonitor<CronFanOutOptions> monitor,
        List<string> problems)
    {
        var options = Resolve(() => monitor.Get(declaration.Id), problems);
        var what = $"Cron fan-out '{declaration.Id}'";
        if (_events.Keys.FirstOrDefault(name => string.Equals(name, declaration.Id, StringComparison.OrdinalIgnoreCase)) is { } sameName)
        {
            // Runs are listed, read and completed by name: a cron id that is also an event name would mix the cron's runs
            // with the event's sends, and one completion handler would serve both.
            problems.Add($"{what} has the same name as event '{sameName}'; runs are listed by name, so a cron fan-out id must differ from every event name. Rename one of them.");
        }

        if (!_events.TryGetValue(declaration.EventName, out var @event))
        {
            problems.Add($"{what} sends event '{declaration.EventName}', but no handler listens to it; add one with AddHandler<T>(id, on: \"{declaration.EventName}\").");
        }
        else if (@event.ItemType != declaration.ItemType)
        {
            problems.Add($"{what}: its source yields {declaration.ItemType.Name}, but the handlers of event '{declaration.EventName}' take {@event.ItemType.Name}.");
        }

        if (ItemJson.RoundTripProblem(declaration.ItemType) is { } problem)
        {
            problems.Add($"{what}: its item type {declaration.ItemType.FullName} does not survive a JSON round trip: {problem}");
        }

        if (options is null)
        {
            return null;
        }

        var reader = (ISourceReader)Activator.CreateInstance(
            typeof(SourceReader<>).MakeGenericType(declaration.ItemType), declaration.SourceType)!;
        return new RegisteredCron(
            declaration.Id,
            declaration.EventName,
            declaration.SourceType,
            declaration.ItemType,
            options,
            FanOutOptionsValidator.ParseCron(options.Cron),
            FanOutOptionsValidator.FindTimeZone(options.TimeZone),
            reader);
    }

    private static T? Resolve<T>(Func<T> get, List<string> problems)
        where T : class
    {
        try
        {
            return get();
        }
        catch (OptionsValidationException ex)
        {
            problems.AddRange(ex.Failures);
            return null;
        }
    }
}
