using System.Globalization;
using System.Runtime.CompilerServices;

namespace FanOut.Hangfire.Benchmarks;

/// <summary>Tenant ids made up on the fly, as a source streams them from a database: nothing holds them all.</summary>
internal static class Items
{
    public static string Id(int i) => "tenant-" + i.ToString("D7", CultureInfo.InvariantCulture);

#pragma warning disable CS1998 // Made up on the fly; it only has to be a stream.
    public static async IAsyncEnumerable<string> Stream(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return Id(i);
        }
    }
}
