using System.Globalization;
using FanOut.Hangfire.Storage;
using Hangfire.Storage;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The stored outcomes of a batch job's items while the job goes on (<see cref="StorageKeys.BatchProgress"/>): which
/// succeeded, so a retry or a requeue hands the handler only the others, and the last failure of each that did not.
/// Written by <see cref="RunOutcomesAttribute"/> in the transaction of the state change that ends an attempt.
/// </summary>
internal static class BatchProgress
{
    public const string SucceededPrefix = "ok:";
    public const string ErrorPrefix = "error:";
    private const int MaxMessageLength = 4_000;

    public static BatchOutcomes Read(IStorageConnection connection, string jobId)
    {
        var done = new HashSet<int>();
        var errors = new Dictionary<int, (string Type, string Message)>();
        foreach (var (field, value) in connection.GetAllEntriesFromHash(StorageKeys.BatchProgress(jobId)) ?? new Dictionary<string, string>())
        {
            if (field.StartsWith(SucceededPrefix, StringComparison.Ordinal) && Index(field, SucceededPrefix) is { } ok)
            {
                done.Add(ok);
            }
            else if (field.StartsWith(ErrorPrefix, StringComparison.Ordinal) && Index(field, ErrorPrefix) is { } failed)
            {
                var newline = value.IndexOf('\n', StringComparison.Ordinal);
                errors[failed] = newline < 0 ? (value, string.Empty) : (value[..newline], value[(newline + 1)..]);
            }
        }

        return new BatchOutcomes(done, errors);
    }

    /// <summary>Records what an attempt did: the items it handled with success and the failure of each it did not.</summary>
    public static void Write(IWriteOnlyTransaction transaction, string jobId, BatchAttempt attempt)
    {
        var fields = attempt.Succeeded.Select(i => KeyValuePair.Create(SucceededPrefix + Text(i), "1"))
            .Concat(attempt.Failed.Select(f => KeyValuePair.Create(ErrorPrefix + Text(f.Key), Describe(f.Value))))
            .ToList();
        if (fields.Count > 0)
        {
            transaction.SetRangeInHash(StorageKeys.BatchProgress(jobId), fields);
        }
    }

    private static string Describe(Exception exception)
    {
        var message = exception.Message.Length > MaxMessageLength ? exception.Message[..MaxMessageLength] : exception.Message;
        return $"{exception.GetType().FullName}\n{message}";
    }

    private static string Text(int index) => index.ToString(CultureInfo.InvariantCulture);

    private static int? Index(string field, string prefix) =>
        int.TryParse(field.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
}

/// <summary>A batch job's stored item outcomes: the places of the items that succeeded, and the last failure of others.</summary>
internal sealed record BatchOutcomes(IReadOnlySet<int> Done, IReadOnlyDictionary<int, (string Type, string Message)> Errors)
{
    public bool IsEmpty => Done.Count == 0 && Errors.Count == 0;

    public static readonly BatchOutcomes None = new(new HashSet<int>(), new Dictionary<int, (string, string)>());
}
