using System.Runtime.CompilerServices;
using FanOut.Hangfire.Items;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Registration;

internal sealed class SourceReader<TItem>(Type sourceType) : ISourceReader
{
    public async IAsyncEnumerable<EncodedItem> ReadAsync(
        IServiceProvider services,
        FanOutSourceContext context,
        ItemEncoder encoder,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = (IFanOutSource<TItem>)services.GetRequiredService(sourceType);
        long position = 0;
        await foreach (var item in source.GetItemsAsync(context, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return encoder.Encode(item, position++);
        }
    }
}
