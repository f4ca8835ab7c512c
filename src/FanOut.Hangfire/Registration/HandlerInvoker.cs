using System.Text.Json;
using FanOut.Hangfire.Items;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Registration;

internal sealed class HandlerInvoker<TItem>(Type handlerType) : IHandlerInvoker
{
    public Task InvokeAsync(IServiceProvider services, string itemJson, FanOutContext context, CancellationToken cancellationToken)
    {
        TItem item;
        try
        {
            item = (TItem)ItemJson.Deserialize(itemJson, typeof(TItem))!;
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException(
                $"Handler '{context.HandlerId}' cannot read its item '{context.ItemKey}' as {typeof(TItem).Name}: {ex.Message}", ex);
        }

        var handler = (IFanOutHandler<TItem>)services.GetRequiredService(handlerType);
        return handler.HandleAsync(item, context, cancellationToken);
    }
}
