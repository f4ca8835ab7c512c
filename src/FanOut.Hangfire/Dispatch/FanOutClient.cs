using System.Diagnostics;
using System.Runtime.CompilerServices;
using FanOut.Hangfire.Items;
using FanOut.Hangfire.Jobs;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using FanOut.Hangfire.Telemetry;

namespace FanOut.Hangfire.Dispatch;

internal sealed class FanOutClient(
    FanOutRegistry registry,
    HangfireServices hangfire,
    RunStore runs,
    IdempotencyKeys idempotency,
    RunDispatcher dispatcher) : IFanOutClient
{
    private static readonly FanOutSendOptions NoOptions = new();

    public Task<string> SendAsync<TItem>(string eventName, TItem item, CancellationToken cancellationToken = default) =>
        SendAsync(eventName, item, NoOptions, cancellationToken);

    public Task<string> SendManyAsync<TItem>(string eventName, IEnumerable<TItem> items, CancellationToken cancellationToken = default) =>
        SendManyAsync(eventName, items, NoOptions, cancellationToken);

    public Task<string> SendManyAsync<TItem>(string eventName, IAsyncEnumerable<TItem> items, CancellationToken cancellationToken = default) =>
        SendManyAsync(eventName, items, NoOptions, cancellationToken);

    public Task<string> TriggerAsync(string fanOutId, CancellationToken cancellationToken = default) =>
        TriggerAsync(fanOutId, NoOptions, cancellationToken);

    public Task<string> SendAsync<TItem>(string eventName, TItem item, FanOutSendOptions options, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(options);
        if (item is null)
        {
            throw new ArgumentNullException(nameof(item), $"The item sent as event '{eventName}' is null; items must not be null.");
        }

        var @event = EventOf(eventName);
        var encoded = registry.EncoderFor(@event).Encode(item, 0, nameof(item));
        return SendEncodedAsync(@event, ToAsync([encoded]), key, cancellationToken);
    }

    public async Task<string> SendManyAsync<TItem>(string eventName, IEnumerable<TItem> items, FanOutSendOptions options, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(options);
        ArgumentNullException.ThrowIfNull(items);
        cancellationToken.ThrowIfCancellationRequested();
        var @event = EventOf(eventName);
        var encoder = registry.EncoderFor(@event);

        // Every item is checked before anything is stored, so bad input sends nothing.
        var encoded = items.Select((item, position) => encoder.Encode(item, position)).ToList();
        if (encoded.Count == 0)
        {
            throw new ArgumentException($"No items were given to send as event '{eventName}'.", nameof(items));
        }

        return await SendEncodedAsync(@event, ToAsync(encoded), key, cancellationToken).ConfigureAwait(false);
    }

    public Task<string> SendManyAsync<TItem>(string eventName, IAsyncEnumerable<TItem> items, FanOutSendOptions options, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(options);
        ArgumentNullException.ThrowIfNull(items);
        cancellationToken.ThrowIfCancellationRequested();
        var @event = EventOf(eventName);
        return SendEncodedAsync(@event, Encode(items, registry.EncoderFor(@event), cancellationToken), key, cancellationToken);
    }

    public Task<string> TriggerAsync(string fanOutId, FanOutSendOptions options, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(fanOutId);
        cancellationToken.ThrowIfCancellationRequested();
        var cron = registry.FindCron(fanOutId);
        if (cron is null)
        {
            var declared = string.Join(", ", registry.Crons.Select(c => $"'{c.Id}'"));
            throw new ArgumentException($"No cron fan-out '{fanOutId}' is declared (declared: {(declared.Length == 0 ? "none" : declared)}).", nameof(fanOutId));
        }

        if (!cron.Options.Enabled)
        {
            throw new ArgumentException($"Cron fan-out '{fanOutId}' is disabled (CronFanOutOptions.Enabled is false) and cannot be triggered.", nameof(fanOutId));
        }

        // The run is recorded as pending in the transaction that enqueues its dispatch, so the id returned can be read at once;
        // a key is recorded in it too, under its lock, so racing triggers with one key enqueue one dispatch.
        var runId = RunIds.New();
        var @event = registry.FindEvent(cron.EventName)!;
        using (var connection = hangfire.Storage.GetConnection())
        using (key is null ? null : IdempotencyKeys.Lock(connection, cron.Id, key))
        {
            if (key is not null && idempotency.Find(connection, cron.Id, key) is { } first)
            {
                return Task.FromResult(first);
            }

            DispatchJobs.Enqueue(
                hangfire,
                connection,
                cron,
                runId,
                "Triggered through IFanOutClient",
                transaction =>
                {
                    runs.Pend(transaction, runId, RunRecord.CronKind, cron.Id, cron.EventName, @event.Handlers.Select(h => h.Id), @event.BatchHandlerIds);
                    if (key is not null)
                    {
                        idempotency.Write(transaction, cron.Id, key, runId);
                    }
                });
        }

        return Task.FromResult(runId);
    }

    private async Task<string> SendEncodedAsync(RegisteredEvent @event, IAsyncEnumerable<EncodedItem> items, string? key, CancellationToken cancellationToken)
    {
        var runId = RunIds.New();
        using (var connection = hangfire.Storage.GetConnection())
        using (key is null ? null : IdempotencyKeys.Lock(connection, @event.Name, key))
        {
            // Under the key's lock: a send that finds its key taken returns that run and reads none of its items.
            if (key is not null && idempotency.Find(connection, @event.Name, key) is { } first)
            {
                return first;
            }

            using var transaction = connection.CreateWriteTransaction();
            runs.Start(transaction, runId, RunRecord.SendKind, @event.Name, @event.Name, @event.Handlers.Select(h => h.Id), batchHandlerIds: @event.BatchHandlerIds);
            if (key is not null)
            {
                idempotency.Write(transaction, @event.Name, key, runId);
            }

            transaction.Commit();
        }

        using var activity = FanOutTelemetry.StartDispatch(@event.Name, @event.Name, runId);
        var started = Stopwatch.GetTimestamp();
        var sent = DispatchCheckpoint.Start;
        try
        {
            sent = await dispatcher.DispatchAsync(runId, @event, items, DispatchCheckpoint.Start, null, c => sent = c, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Finish(runId, ex is RunCancelledException ? RunRecord.Cancelled : RunRecord.Interrupted, sent.Items == 0 ? (@event.Name, key) : (@event.Name, null));
            throw new FanOutSendException(
                $"Sending event '{@event.Name}' stopped after {sent.Items} items (run {runId}); those stay sent. {ex.Message}",
                runId,
                sent.Items,
                ex);
        }

        Finish(runId, RunRecord.Dispatched, (@event.Name, null));
        FanOutTelemetry.DispatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, FanOutTelemetry.Tag("fanout.name", @event.Name));
        return runId;
    }

    // A send that stored no item frees its key in the transaction that ends it, so a retry of the send is not taken for a
    // duplicate of a run that sent nothing.
    private void Finish(string runId, string status, (string Name, string? Key) release)
    {
        using var connection = hangfire.Storage.GetConnection();
        using (release.Key is null ? null : IdempotencyKeys.Lock(connection, release.Name, release.Key))
        {
            using var transaction = connection.CreateWriteTransaction();
            runs.FinishDispatch(transaction, runId, status);
            if (release.Key is not null)
            {
                idempotency.Forget(connection, transaction, release.Name, release.Key, runId);
            }

            transaction.Commit();
        }
    }

    private static string? KeyOf(FanOutSendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IdempotencyKeys.Check(options.IdempotencyKey, nameof(options));
        return options.IdempotencyKey;
    }

    private RegisteredEvent EventOf(string eventName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        return registry.FindEvent(eventName) ?? throw new ArgumentException(
            $"No handler listens to event '{eventName}', so sending it would do nothing; declare one with AddHandler<T>(id, on: \"{eventName}\").",
            nameof(eventName));
    }

    private static async IAsyncEnumerable<EncodedItem> Encode<TItem>(
        IAsyncEnumerable<TItem> items,
        ItemEncoder encoder,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long position = 0;
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return encoder.Encode(item, position++);
        }
    }

#pragma warning disable CS1998 // An in-memory list needs no awaiting; it only has to look like a stream.
    private static async IAsyncEnumerable<EncodedItem> ToAsync(List<EncodedItem> items)
#pragma warning restore CS1998
    {
        foreach (var item in items)
        {
            yield return item;
        }
    }
}
