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
    RunDispatcher dispatcher) : IFanOutClient
{
    public Task<string> SendAsync<TItem>(string eventName, TItem item, CancellationToken cancellationToken = default)
    {
        if (item is null)
        {
            throw new ArgumentNullException(nameof(item), $"The item sent as event '{eventName}' is null; items must not be null.");
        }

        var @event = EventOf(eventName);
        var encoded = registry.EncoderFor(@event).Encode(item, 0, nameof(item));
        return SendEncodedAsync(@event, ToAsync([encoded]), cancellationToken);
    }

    public async Task<string> SendManyAsync<TItem>(string eventName, IEnumerable<TItem> items, CancellationToken cancellationToken = default)
    {
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

        return await SendEncodedAsync(@event, ToAsync(encoded), cancellationToken).ConfigureAwait(false);
    }

    public Task<string> SendManyAsync<TItem>(string eventName, IAsyncEnumerable<TItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        cancellationToken.ThrowIfCancellationRequested();
        var @event = EventOf(eventName);
        return SendEncodedAsync(@event, Encode(items, registry.EncoderFor(@event), cancellationToken), cancellationToken);
    }

    public Task<string> TriggerAsync(string fanOutId, CancellationToken cancellationToken = default)
    {
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

        // The run is recorded as pending in the transaction that enqueues its dispatch, so the id returned can be read at once.
        var runId = RunIds.New();
        var @event = registry.FindEvent(cron.EventName)!;
        using (var connection = hangfire.Storage.GetConnection())
        {
            DispatchJobs.Enqueue(
                hangfire,
                connection,
                cron,
                runId,
                "Triggered through IFanOutClient",
                transaction => runs.Pend(transaction, runId, RunRecord.CronKind, cron.Id, cron.EventName, @event.Handlers.Select(h => h.Id)));
        }

        return Task.FromResult(runId);
    }

    private async Task<string> SendEncodedAsync(RegisteredEvent @event, IAsyncEnumerable<EncodedItem> items, CancellationToken cancellationToken)
    {
        var runId = RunIds.New();
        using var activity = FanOutTelemetry.StartDispatch(@event.Name, @event.Name, runId);
        var started = Stopwatch.GetTimestamp();
        using (var connection = hangfire.Storage.GetConnection())
        using (var transaction = connection.CreateWriteTransaction())
        {
            runs.Start(transaction, runId, RunRecord.SendKind, @event.Name, @event.Name, @event.Handlers.Select(h => h.Id));
            transaction.Commit();
        }

        var sent = DispatchCheckpoint.Start;
        try
        {
            sent = await dispatcher.DispatchAsync(runId, @event, items, DispatchCheckpoint.Start, null, c => sent = c, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Finish(runId, ex is RunCancelledException ? RunRecord.Cancelled : RunRecord.Interrupted);
            throw new FanOutSendException(
                $"Sending event '{@event.Name}' stopped after {sent.Items} items (run {runId}); those stay sent. {ex.Message}",
                runId,
                sent.Items,
                ex);
        }

        Finish(runId, RunRecord.Dispatched);
        FanOutTelemetry.DispatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, FanOutTelemetry.Tag("fanout.name", @event.Name));
        return runId;
    }

    private void Finish(string runId, string status)
    {
        using var connection = hangfire.Storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();
        runs.FinishDispatch(transaction, runId, status);
        transaction.Commit();
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
