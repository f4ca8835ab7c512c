using System.Diagnostics.CodeAnalysis;
using FanOut.Hangfire;
using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Flow;
using FanOut.Hangfire.Registration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Declares cron fan-outs and handlers on an <see cref="IFanOutBuilder"/>.</summary>
public static class FanOutBuilderExtensions
{
    /// <summary>
    /// Declares a cron fan-out: on every firing of <paramref name="cron"/>, the source streams items and each one is
    /// sent as <paramref name="sends"/>, one Hangfire job per item and handler.
    /// </summary>
    /// <typeparam name="TSource">
    /// A class implementing <see cref="IFanOutSource{TItem}"/>, resolved from DI in a scope per dispatch (registered
    /// as scoped unless already registered).
    /// </typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="id">The fan-out's id: letters, digits, '-', '_', '.' and '/', unique among cron fan-outs.</param>
    /// <param name="cron">A Cronos expression with 5 fields, or 6 with seconds first; configuration can override it.</param>
    /// <param name="sends">The event the items are sent as; at least one handler must listen to it.</param>
    /// <param name="configure">Sets further options: time zone, queue, overlap rule.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder AddCron<TSource>(
        this IFanOutBuilder builder,
        string id,
        string cron,
        string sends,
        Action<CronFanOutOptions>? configure = null)
        where TSource : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        Names.ThrowIfInvalidId(id, "cron fan-out id", nameof(id));
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        Names.ThrowIfInvalidId(sends, $"event name sent by cron fan-out '{id}'", nameof(sends));

        var itemType = ItemTypeOf(typeof(TSource), typeof(IFanOutSource<>), nameof(TSource));
        DeclarationsOf(builder).Add(new CronDeclaration(id, sends, typeof(TSource), itemType));

        builder.Services.TryAddScoped<TSource>();
        builder.Services.AddOptions<CronFanOutOptions>(id).Configure(options =>
        {
            options.Cron = cron;
            configure?.Invoke(options);
        });
        return builder;
    }

    /// <summary>
    /// Declares a handler: every item sent as <paramref name="on"/> becomes one Hangfire job that calls it, with its own
    /// retries. Several handlers may listen to one event; each gets its own job per item.
    /// </summary>
    /// <typeparam name="THandler">
    /// A class implementing <see cref="IFanOutHandler{TItem}"/>, resolved from DI in a scope per job (registered as
    /// scoped unless already registered).
    /// </typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="id">
    /// The handler's id: letters, digits, '-', '_', '.' and '/', unique among handlers. Stored in every job it gets,
    /// so keep it stable; the class behind it can be renamed freely.
    /// </param>
    /// <param name="on">The event the handler listens to.</param>
    /// <param name="configure">Sets further options: retry attempts and delays, queue, concurrency limits and throttle.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder AddHandler<THandler>(
        this IFanOutBuilder builder,
        string id,
        string on,
        Action<FanOutHandlerOptions>? configure = null)
        where THandler : class =>
        AddHandlerOfKind<THandler>(builder, id, on, configure, batch: false);

    /// <summary>
    /// Declares a batch handler: the items sent as <paramref name="on"/> are handed over up to
    /// <see cref="FanOutHandlerOptions.MaxBatchSize"/> (100) at a time, each batch of one run in one Hangfire job, with an
    /// outcome per item: only the items that failed are retried. Batch and item handlers may listen to one event side by
    /// side; each gets every item.
    /// </summary>
    /// <typeparam name="THandler">
    /// A class implementing <see cref="IFanOutBatchHandler{TItem}"/>, resolved from DI in a scope per job (registered as
    /// scoped unless already registered).
    /// </typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="id">
    /// The handler's id: letters, digits, '-', '_', '.' and '/', unique among handlers of both kinds. Stored in every job
    /// it gets, so keep it stable.
    /// </param>
    /// <param name="on">The event the handler listens to.</param>
    /// <param name="configure">
    /// Sets further options: the batch size and key, retry attempts and delays, queue, concurrency limits and throttle (a
    /// limit counts calls, so one batch takes one slot).
    /// </param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder AddBatchHandler<THandler>(
        this IFanOutBuilder builder,
        string id,
        string on,
        Action<FanOutHandlerOptions>? configure = null)
        where THandler : class =>
        AddHandlerOfKind<THandler>(builder, id, on, configure, batch: true);

    /// <summary>
    /// Declares a completion handler for the runs of a cron fan-out or of an event's sends: it is called once per run,
    /// as its own Hangfire job, when dispatch has finished and every job of the run is in a final state (and once more
    /// each time a retry of failed jobs ends the run again).
    /// </summary>
    /// <typeparam name="THandler">
    /// A class implementing <see cref="IFanOutCompletionHandler"/>, resolved from DI in a scope per call (registered as
    /// scoped unless already registered).
    /// </typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="of">A cron fan-out id, or an event name for runs started by sends of that event.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder AddCompletionHandler<THandler>(this IFanOutBuilder builder, string of)
        where THandler : class, IFanOutCompletionHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        Names.ThrowIfInvalidId(of, "cron fan-out id or event name of a completion handler", nameof(of));
        DeclarationsOf(builder).Add(new CompletionDeclaration(of, typeof(THandler)));
        builder.Services.TryAddScoped<THandler>();
        return builder;
    }

    /// <summary>
    /// Declares a limit that several handlers share (two handlers calling one API share its budget): a global and a
    /// per-key concurrency limit and a throttle, as on <see cref="FanOutHandlerOptions"/>. A handler uses it by setting
    /// <see cref="FanOutHandlerOptions.Limit"/> to <paramref name="name"/>; configuration (<c>FanOut:Limits:{name}</c>)
    /// overrides code.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The limit's name: letters, digits, '-', '_', '.' and '/', unique among limits. Its state in
    /// storage is named after it, so keep it stable.</param>
    /// <param name="configure">Sets what the limit allows.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    public static IFanOutBuilder AddLimit(this IFanOutBuilder builder, string name, Action<FanOutLimitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        Names.ThrowIfInvalidId(name, "limit name", nameof(name));
        DeclarationsOf(builder).AddLimit(name);
        builder.Services.AddOptions<FanOutLimitOptions>(name).Configure(configure);
        return builder;
    }

    /// <summary>
    /// Makes <typeparamref name="TWriter"/> write the child jobs of every dispatch, in place of Hangfire's own API: the
    /// extensibility point of storage fast paths (see <see cref="IFanOutChunkWriter"/>). The last call wins.
    /// </summary>
    /// <typeparam name="TWriter">The writer, registered as a singleton and resolved from DI.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    [Experimental(FanOutChunk.Diagnostic)]
    public static IFanOutBuilder UseChunkWriter<TWriter>(this IFanOutBuilder builder)
        where TWriter : class, IFanOutChunkWriter
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IFanOutChunkWriter, TWriter>());
        return builder;
    }

    /// <summary>
    /// Makes <typeparamref name="TLock"/> the distributed lock taken around every change of a limit's state, in place of
    /// the storage's own lock (see <see cref="IFanOutLimitLock"/>). The last call wins.
    /// </summary>
    /// <typeparam name="TLock">The lock, registered as a singleton and resolved from DI.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder, to chain further declarations.</returns>
    [Experimental("FANOUT0001")]
    public static IFanOutBuilder UseLimitLock<TLock>(this IFanOutBuilder builder)
        where TLock : class, IFanOutLimitLock
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IFanOutLimitLock, TLock>());
        return builder;
    }

    private static FanOutDeclarations DeclarationsOf(IFanOutBuilder builder) =>
        builder is FanOutBuilder own
            ? own.Declarations
            : throw new ArgumentException("Use the builder returned by AddFanOut.", nameof(builder));

    private static IFanOutBuilder AddHandlerOfKind<THandler>(IFanOutBuilder builder, string id, string on, Action<FanOutHandlerOptions>? configure, bool batch)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        Names.ThrowIfInvalidId(id, "handler id", nameof(id));
        Names.ThrowIfInvalidId(on, $"event name of handler '{id}'", nameof(on));

        var itemType = ItemTypeOf(typeof(THandler), batch ? typeof(IFanOutBatchHandler<>) : typeof(IFanOutHandler<>), nameof(THandler));
        DeclarationsOf(builder).Add(new HandlerDeclaration(id, on, typeof(THandler), itemType) { IsBatch = batch });

        builder.Services.TryAddScoped<THandler>();
        if (configure is not null)
        {
            builder.Services.AddOptions<FanOutHandlerOptions>(id).Configure(configure);
        }

        return builder;
    }

    private static Type ItemTypeOf(Type type, Type openInterface, string paramName)
    {
        var implemented = type.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == openInterface)
            .ToList();
        return implemented.Count switch
        {
            1 => implemented[0].GetGenericArguments()[0],
            0 => throw new ArgumentException(
                $"{type.FullName} does not implement {openInterface.Name.Split('`')[0]}<TItem>.", paramName),
            _ => throw new ArgumentException(
                $"{type.FullName} implements {openInterface.Name.Split('`')[0]}<TItem> more than once; a class serves one item type.", paramName),
        };
    }
}
