using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// Job and state ids taken from the tables' own sequences ahead of the insert, a block at a time: a job's id is known
/// when Hangfire creates it (filters and the state machine see it, as with Hangfire's own writes), and a job row can name
/// its current state when it is first inserted. Ids a rolled-back chunk took are left unused, as Hangfire leaves them.
/// </summary>
internal sealed class IdPool(ChunkStatements statements, Func<NpgsqlConnection> database, int blockSize)
{
    private readonly Queue<long> _jobIds = new();
    private readonly Queue<long> _stateIds = new();

    public long NextJobId()
    {
        if (_jobIds.Count == 0)
        {
            // A job usually gets one state: its first block of state ids comes with its ids, in the same round trip.
            Take(blockSize, _stateIds.Count == 0 ? blockSize : 0);
        }

        return _jobIds.Dequeue();
    }

    /// <summary>Ids for <paramref name="count"/> states, in increasing order.</summary>
    public long[] StateIds(int count)
    {
        if (_stateIds.Count < count)
        {
            Take(0, count - _stateIds.Count);
        }

        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = _stateIds.Dequeue();
        }

        return ids;
    }

    private void Take(int jobs, int states)
    {
        var (jobIds, stateIds) = statements.AllocateIds(database(), jobs, states);
        foreach (var id in jobIds)
        {
            _jobIds.Enqueue(id);
        }

        foreach (var id in stateIds)
        {
            _stateIds.Enqueue(id);
        }
    }
}
