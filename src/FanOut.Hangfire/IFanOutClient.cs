using System.Runtime.CompilerServices;

namespace FanOut.Hangfire;

/// <summary>
/// Sends events and triggers cron fan-outs from anywhere in the application. Each call starts a run and
/// returns its id.
/// </summary>
// One name for "send many", whether the items are in memory or streamed, reads better than two; RS0026 guards
// against adding optional parameters to overloads later. Each method has two overloads, with and without
// FanOutSendOptions, and only the cancellation token, last, is optional in both: the options parameter is required,
// so a call without options binds to the first and a call with them to the second, never ambiguously (RS0027 asks
// for the overload with the most parameters to be the only one with optional parameters; the token stays optional
// on both, as callers of the first overload expect).
#pragma warning disable RS0026, RS0027
public interface IFanOutClient
{
    /// <summary>Sends one item as an event: one background job per handler listening to the event.</summary>
    /// <typeparam name="TItem">The item type: a string ID or any JSON-round-trippable value.</typeparam>
    /// <param name="eventName">The event to send; at least one handler must listen to it.</param>
    /// <param name="item">The item; not <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The id of the run.</returns>
    /// <exception cref="ArgumentException">The event is not declared, or the item is null, too large or not valid JSON for the event's item type.</exception>
    Task<string> SendAsync<TItem>(string eventName, TItem item, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends one item as an event, with options: with an idempotency key, a send whose key was used within
    /// <see cref="FanOutOptions.IdempotencyWindow"/> returns the first run's id and sends nothing.
    /// </summary>
    /// <typeparam name="TItem">The item type: a string ID or any JSON-round-trippable value.</typeparam>
    /// <param name="eventName">The event to send; at least one handler must listen to it.</param>
    /// <param name="item">The item; not <see langword="null"/>.</param>
    /// <param name="options">The send's options, such as its <see cref="FanOutSendOptions.IdempotencyKey"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The id of the run, or of the first run sent with the same idempotency key.</returns>
    /// <exception cref="ArgumentException">
    /// The event is not declared, the item is null, too large or not valid JSON for the event's item type, or the
    /// idempotency key is empty, longer than <see cref="FanOutSendOptions.MaxIdempotencyKeyLength"/> or holds a control
    /// character or a lone surrogate.
    /// </exception>
    Task<string> SendAsync<TItem>(string eventName, TItem item, FanOutSendOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends items as one run of an event. Every item is checked before anything is sent, so bad input sends nothing.
    /// </summary>
    /// <typeparam name="TItem">The item type: a string ID or any JSON-round-trippable value.</typeparam>
    /// <param name="eventName">The event to send; at least one handler must listen to it.</param>
    /// <param name="items">The items; none may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The id of the run.</returns>
    /// <exception cref="ArgumentException">The event is not declared, or an item is null, too large or not valid JSON for the event's item type.</exception>
    Task<string> SendManyAsync<TItem>(string eventName, IEnumerable<TItem> items, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends items as one run of an event, with options: with an idempotency key, a send whose key was used within
    /// <see cref="FanOutOptions.IdempotencyWindow"/> returns the first run's id and sends nothing. Every item is checked
    /// before anything is sent, so bad input sends nothing and leaves the key free.
    /// </summary>
    /// <typeparam name="TItem">The item type: a string ID or any JSON-round-trippable value.</typeparam>
    /// <param name="eventName">The event to send; at least one handler must listen to it.</param>
    /// <param name="items">The items; none may be <see langword="null"/>.</param>
    /// <param name="options">The send's options, such as its <see cref="FanOutSendOptions.IdempotencyKey"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The id of the run, or of the first run sent with the same idempotency key.</returns>
    /// <exception cref="ArgumentException">
    /// The event is not declared, an item is null, too large or not valid JSON for the event's item type, or the
    /// idempotency key cannot be used (see <see cref="FanOutSendOptions.IdempotencyKey"/>).
    /// </exception>
    Task<string> SendManyAsync<TItem>(string eventName, IEnumerable<TItem> items, FanOutSendOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams items as one run of an event, one chunk at a time, so memory stays flat however many items come.
    /// </summary>
    /// <typeparam name="TItem">The item type: a string ID or any JSON-round-trippable value.</typeparam>
    /// <param name="eventName">The event to send; at least one handler must listen to it.</param>
    /// <param name="items">The items; none may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The id of the run.</returns>
    /// <exception cref="FanOutSendException">
    /// An item was bad, or the stream failed, after some chunks had been sent. The exception tells the run id and how
    /// many items were sent; those stay sent.
    /// </exception>
    /// <remarks>
    /// A collection that is both an <see cref="IAsyncEnumerable{T}"/> and an <see cref="IEnumerable{T}"/>, such as
    /// Entity Framework Core's <c>DbSet&lt;T&gt;</c> or a query on it, takes this overload: it is streamed.
    /// </remarks>
    [OverloadResolutionPriority(1)]
    Task<string> SendManyAsync<TItem>(string eventName, IAsyncEnumerable<TItem> items, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams items as one run of an event, with options: with an idempotency key, a send whose key was used within
    /// <see cref="FanOutOptions.IdempotencyWindow"/> returns the first run's id without reading the stream.
    /// </summary>
    /// <typeparam name="TItem">The item type: a string ID or any JSON-round-trippable value.</typeparam>
    /// <param name="eventName">The event to send; at least one handler must listen to it.</param>
    /// <param name="items">The items; none may be <see langword="null"/>.</param>
    /// <param name="options">The send's options, such as its <see cref="FanOutSendOptions.IdempotencyKey"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The id of the run, or of the first run sent with the same idempotency key.</returns>
    /// <exception cref="ArgumentException">The idempotency key cannot be used (see <see cref="FanOutSendOptions.IdempotencyKey"/>).</exception>
    /// <exception cref="FanOutSendException">
    /// An item was bad, or the stream failed, after some chunks had been sent. The exception tells the run id and how
    /// many items were sent; those stay sent, and the key stays with the run. When nothing was sent, the key is free again.
    /// </exception>
    [OverloadResolutionPriority(1)]
    Task<string> SendManyAsync<TItem>(string eventName, IAsyncEnumerable<TItem> items, FanOutSendOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// Triggers a cron fan-out now, outside its schedule. The dispatch runs as a Hangfire job, like a cron firing.
    /// </summary>
    /// <param name="fanOutId">The id of a declared, enabled cron fan-out.</param>
    /// <param name="cancellationToken">
    /// Checked before the trigger is stored; Hangfire's storage API is synchronous, so the store itself is not cancelled.
    /// </param>
    /// <returns>
    /// The id of the run. The run is recorded at once, as <see cref="FanOutRunStatus.Pending"/> until its dispatch
    /// starts, so <see cref="IFanOutRuns.GetAsync"/> finds it straight away.
    /// </returns>
    /// <exception cref="ArgumentException">No enabled cron fan-out has this id.</exception>
    Task<string> TriggerAsync(string fanOutId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Triggers a cron fan-out now, with options: with an idempotency key, a trigger whose key was used for this fan-out
    /// within <see cref="FanOutOptions.IdempotencyWindow"/> returns the first run's id and enqueues nothing.
    /// </summary>
    /// <param name="fanOutId">The id of a declared, enabled cron fan-out.</param>
    /// <param name="options">The trigger's options, such as its <see cref="FanOutSendOptions.IdempotencyKey"/>.</param>
    /// <param name="cancellationToken">
    /// Checked before the trigger is stored; Hangfire's storage API is synchronous, so the store itself is not cancelled.
    /// </param>
    /// <returns>The id of the run, or of the first run triggered with the same idempotency key.</returns>
    /// <exception cref="ArgumentException">
    /// No enabled cron fan-out has this id, or the idempotency key cannot be used (see
    /// <see cref="FanOutSendOptions.IdempotencyKey"/>).
    /// </exception>
    Task<string> TriggerAsync(string fanOutId, FanOutSendOptions options, CancellationToken cancellationToken = default);
}
#pragma warning restore RS0026, RS0027
