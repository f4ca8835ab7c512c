using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// Yields <c>{fanOutId}-{n:D6}</c> (or <c>{fanOutId}{n % keys}-{n:D6}</c> over several keys), the same items in the same order on every read of a run, pausing before every
/// chunk as configured; journals when each read starts and when it has yielded everything.
/// </summary>
internal sealed class JournalSource(HostSettings settings, Journal journal, IOptions<FanOutOptions> options) : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = settings.SourceOf(context.FanOutId);
        var chunkSize = options.Value.ChunkSize;
        var dispatch = await journal.DispatchStartedAsync(context, cancellationToken);
        for (var i = 0; i < source.Items; i++)
        {
            if (i % chunkSize == 0 && source.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(source.ChunkDelay, cancellationToken);
            }

            yield return source.Keys > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{context.FanOutId}{i % source.Keys}-{i:D6}")
                : string.Create(CultureInfo.InvariantCulture, $"{context.FanOutId}-{i:D6}");
        }

        await journal.DispatchFinishedAsync(dispatch, cancellationToken);
    }
}
