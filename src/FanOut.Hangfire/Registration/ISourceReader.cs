using FanOut.Hangfire.Items;

namespace FanOut.Hangfire.Registration;

/// <summary>Streams a source's items as dispatch items, without reflection per item.</summary>
internal interface ISourceReader
{
    IAsyncEnumerable<EncodedItem> ReadAsync(
        IServiceProvider services,
        FanOutSourceContext context,
        ItemEncoder encoder,
        CancellationToken cancellationToken);
}
