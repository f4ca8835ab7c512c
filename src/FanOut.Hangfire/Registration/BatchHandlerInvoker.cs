using System.Text.Json;
using FanOut.Hangfire.Items;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Registration;

internal sealed class BatchHandlerInvoker<TItem>(Type handlerType) : IBatchHandlerInvoker
{
    public async Task<IReadOnlyDictionary<int, Exception>> InvokeAsync(
        IServiceProvider services,
        IReadOnlyList<BatchEntry> entries,
        FanOutBatchContext context,
        Func<BatchEntry, FanOutContext> contextOf,
        CancellationToken cancellationToken)
    {
        var failures = new Dictionary<int, Exception>();
        var items = new List<FanOutBatchItem<TItem>>(entries.Count);
        foreach (var entry in entries)
        {
            try
            {
                items.Add(new FanOutBatchItem<TItem>(entry.Index, (TItem)ItemJson.Deserialize(entry.Json, typeof(TItem))!, contextOf(entry)));
            }
            catch (JsonException ex)
            {
                failures[entry.Index] = new InvalidOperationException(
                    $"Handler '{context.HandlerId}' cannot read its item '{entry.Key}' as {typeof(TItem).Name}: {ex.Message}", ex);
            }
        }

        if (items.Count == 0)
        {
            return failures;
        }

        var handler = (IFanOutBatchHandler<TItem>)services.GetRequiredService(handlerType);
        try
        {
            await handler.HandleAsync(items.AsReadOnly(), context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Throwing fails every item of the call the handler had not marked itself.
            foreach (var item in items.Where(i => !i.IsFailed))
            {
                item.Fail(ex);
            }
        }

        foreach (var item in items.Where(i => i.IsFailed))
        {
            failures[item.Index] = item.Exception!;
        }

        return failures;
    }
}
