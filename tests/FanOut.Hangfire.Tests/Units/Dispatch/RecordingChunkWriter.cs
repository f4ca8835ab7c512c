using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Runs;

namespace FanOut.Hangfire.Tests.Units.Dispatch;

/// <summary>
/// A chunk writer that records each chunk and commits only its checkpoint (no jobs), keeping the writer's rules: chunks
/// commit in order, and a chunk after one that failed fails too. It commits each chunk before it returns, or, with
/// <see cref="CommitsWhenTold"/>, returns a pending commit the test completes or fails.
/// </summary>
internal sealed class RecordingChunkWriter : IFanOutChunkWriter
{
    private readonly List<WrittenChunk> _chunks = [];

    /// <summary>Gets or sets whether commits wait for <see cref="WrittenChunk.Commit"/> or <see cref="WrittenChunk.Fail"/>.</summary>
    public bool CommitsWhenTold { get; set; }

    /// <summary>Gets or sets the number (from 1) of the chunk whose commit fails, when commits are not told.</summary>
    public int? FailingChunk { get; set; }

    public IReadOnlyList<WrittenChunk> Chunks
    {
        get
        {
            lock (_chunks)
            {
                return [.. _chunks];
            }
        }
    }

    public Task WriteAsync(FanOutChunk chunk)
    {
        WrittenChunk written;
        lock (_chunks)
        {
            written = new WrittenChunk(chunk, _chunks.Count + 1);
            _chunks.Add(written);
        }

        if (!CommitsWhenTold)
        {
            if (written.Number == FailingChunk)
            {
                written.Fail(new InvalidOperationException($"Chunk {written.Number} did not commit."));
            }
            else
            {
                written.Commit();
            }
        }

        return written.Committed;
    }
}

/// <summary>One chunk as the writer was given it, and its commit.</summary>
internal sealed class WrittenChunk(FanOutChunk chunk, int number)
{
    // Continuations run inline: a dispatch waiting for this commit resumes inside Commit or Fail, so that once they return
    // it has gone as far as it can (a test can then assert what it read and wrote, with nothing left running).
    private readonly TaskCompletionSource _commit = new();

    public int Number { get; } = number;

    public string RunId { get; } = chunk.RunId;

    public string EventName { get; } = chunk.EventName;

    public int ItemCount { get; } = chunk.ItemCount;

    public int JobCount { get; } = chunk.JobCount;

    public Task PreviousCommit { get; } = chunk.PreviousCommit;

    public Task Committed => _commit.Task;

    /// <summary>Gets the checkpoint of the run as this chunk's commit left it.</summary>
    public DispatchCheckpoint? Checkpoint { get; private set; }

    public void Commit()
    {
        if (!PreviousCommit.IsCompleted)
        {
            throw new InvalidOperationException($"Chunk {Number} cannot commit before the chunk before it.");
        }

        if (!PreviousCommit.IsCompletedSuccessfully)
        {
            Fail(new InvalidOperationException($"Chunk {Number} was not committed: the chunk before it failed."));
            return;
        }

        using (var connection = chunk.Storage.GetConnection())
        {
            using (var transaction = connection.CreateWriteTransaction())
            {
                chunk.WriteCheckpoint(transaction);
                transaction.Commit();
            }

            Checkpoint = new RunStore(TimeProvider.System).Find(connection, RunId)?.Checkpoint;
        }

        _commit.SetResult();
    }

    public void Fail(Exception exception) => _commit.SetException(exception);
}
