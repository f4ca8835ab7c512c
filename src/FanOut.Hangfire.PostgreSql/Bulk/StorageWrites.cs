using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A write of the chunk's transaction to something other than the chunk's jobs: the run's checkpoint and the dispatch
/// lease (hashes), and what a filter may add (counters, sets). Applied in the order they were made, after the jobs.
/// </summary>
internal abstract record StorageWrite
{
    public abstract NpgsqlBatchCommand ToCommand(ChunkStatements statements);
}

/// <summary><c>SetRangeInHash</c>: every field set, the last value winning when a field comes twice.</summary>
internal sealed record HashFieldsWrite(string Key, string[] Fields, string?[] Values) : StorageWrite
{
    public static HashFieldsWrite Of(string key, IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (field, value) in pairs)
        {
            fields[field] = value;
        }

        return new HashFieldsWrite(key, [.. fields.Keys], [.. fields.Values]);
    }

    public override NpgsqlBatchCommand ToCommand(ChunkStatements statements) => statements.SetHashFields(Key, Fields, Values);
}

/// <summary><c>RemoveHash</c>.</summary>
internal sealed record HashRemoveWrite(string Key) : StorageWrite
{
    public override NpgsqlBatchCommand ToCommand(ChunkStatements statements) => statements.RemoveHash(Key);
}

/// <summary><c>ExpireHash</c> (a time on the client's clock, as Hangfire.PostgreSql computes it) or <c>PersistHash</c> (null).</summary>
internal sealed record HashExpiryWrite(string Key, DateTime? ExpireAt) : StorageWrite
{
    public override NpgsqlBatchCommand ToCommand(ChunkStatements statements) => statements.SetHashExpiry(Key, ExpireAt);
}

/// <summary><c>IncrementCounter</c> or <c>DecrementCounter</c>, with or without an expiry counted from the database's clock.</summary>
internal sealed record CounterWrite(string Key, int Value, long? ExpireInSeconds) : StorageWrite
{
    public override NpgsqlBatchCommand ToCommand(ChunkStatements statements) => statements.AddToCounter(Key, Value, ExpireInSeconds);
}

/// <summary><c>AddToSet</c>: adds the value or updates its score.</summary>
internal sealed record SetAddWrite(string Key, string Value, double Score) : StorageWrite
{
    public override NpgsqlBatchCommand ToCommand(ChunkStatements statements) => statements.AddToSet(Key, Value, Score);
}

/// <summary><c>RemoveFromSet</c>.</summary>
internal sealed record SetRemoveWrite(string Key, string Value) : StorageWrite
{
    public override NpgsqlBatchCommand ToCommand(ChunkStatements statements) => statements.RemoveFromSet(Key, Value);
}
