using System.Globalization;
using System.Text;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// The failure of a batch attempt in which some items failed: it names them and their exceptions (the first few), so
/// Hangfire's job page says which. Each item's own exception is kept with the batch and shown among the run's failed
/// items.
/// </summary>
internal sealed class BatchItemsFailedException : Exception
{
    private const int Named = 5;

    public BatchItemsFailedException(string handlerId, int handled, IReadOnlyList<(string ItemKey, Exception Exception)> failed)
        : base(Describe(handlerId, handled, failed))
    {
    }

    private static string Describe(string handlerId, int handled, IReadOnlyList<(string ItemKey, Exception Exception)> failed)
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{failed.Count} of the {handled} items handed to batch handler '{handlerId}' failed"));
        foreach (var (key, exception) in failed.Take(Named))
        {
            text.Append(CultureInfo.InvariantCulture, $"; '{key}': {exception.GetType().Name}: {exception.Message}");
        }

        if (failed.Count > Named)
        {
            text.Append(CultureInfo.InvariantCulture, $"; and {failed.Count - Named} more");
        }

        return text.Append('.').ToString();
    }
}
