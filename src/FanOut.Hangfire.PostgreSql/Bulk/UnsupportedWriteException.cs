namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A chunk asked for a write the fast path does not make (a filter writing to a list, say). Thrown before anything of the
/// chunk is committed, so the chunk can be written the generic way instead.
/// </summary>
internal sealed class UnsupportedWriteException(string operation)
    : Exception($"The PostgreSQL fast path does not make this write: {operation}.")
{
    public string Operation { get; } = operation;
}
