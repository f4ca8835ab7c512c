using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A transaction's writes to sets, counters and hashes as a few set-based statements instead of one per write, leaving
/// the tables as the writes made one by one in order would: a set member's last write wins (an add with its score, or a
/// remove), each increment or decrement is its own counter row, and the hash writes go in the order they were made.
/// </summary>
internal static class SetBasedWrites
{
    public static List<NpgsqlBatchCommand> Commands(ChunkStatements statements, IEnumerable<StorageWrite> writes)
    {
        var members = new Dictionary<(string Key, string Value), StorageWrite>();
        var counters = new List<CounterWrite>();
        var commands = new List<NpgsqlBatchCommand>();
        foreach (var write in writes)
        {
            switch (write)
            {
                case SetAddWrite add:
                    members[(add.Key, add.Value)] = add;
                    break;
                case SetRemoveWrite remove:
                    members[(remove.Key, remove.Value)] = remove;
                    break;
                case CounterWrite counter:
                    counters.Add(counter);
                    break;
                default:
                    // Hashes: a few, each on its key, in order.
                    commands.Add(write.ToCommand(statements));
                    break;
            }
        }

        var removes = members.Values.OfType<SetRemoveWrite>().ToList();
        if (removes.Count > 0)
        {
            commands.Add(statements.RemoveFromSets(removes));
        }

        var adds = members.Values.OfType<SetAddWrite>().ToList();
        if (adds.Count > 0)
        {
            commands.Add(statements.AddToSets(adds));
        }

        if (counters.Count > 0)
        {
            commands.Add(statements.AddToCounters(counters));
        }

        return commands;
    }
}
