using FanOut.Hangfire.Jobs;
using Hangfire.Storage;

namespace FanOut.Hangfire.Runs;

/// <summary>
/// A failed child job as the run's failed items show it: an item job is one failed item, with its Failed state's
/// exception; a batch job has one failed item per member of the failed set, each with its own exception as the batch
/// stored it (the Failed state's when it stored none: its items failed together).
/// </summary>
internal sealed class FailedJobView
{
    private readonly string _jobId;
    private readonly ItemJobArgs? _item;
    private readonly BatchJobArgs? _batch;
    private readonly BatchOutcomes _outcomes;
    private readonly IReadOnlyDictionary<string, string> _state;
    private readonly FanOutJobLog? _log;

    private FailedJobView(string jobId, ItemJobArgs? item, BatchJobArgs? batch, BatchOutcomes outcomes, IReadOnlyDictionary<string, string> state, FanOutJobLog? log)
    {
        _jobId = jobId;
        _item = item;
        _batch = batch;
        _outcomes = outcomes;
        _state = state;
        _log = log;
    }

    public static FailedJobView? Read(IStorageConnection connection, string jobId)
    {
        var job = connection.GetJobData(jobId)?.Job;
        var item = ItemJobCodec.Instance.TryRead(job, out var itemArgs) ? itemArgs : null;
        var batch = item is null && BatchJobCodec.Instance.TryRead(job, out var batchArgs) ? batchArgs : null;
        if (item is null && batch is null)
        {
            return null;
        }

        var state = new Dictionary<string, string>(connection.GetStateData(jobId)?.Data ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var outcomes = batch is null ? BatchOutcomes.None : BatchProgress.Read(connection, jobId);
        return new FailedJobView(jobId, item, batch, outcomes, state, JobLogReader.Last(connection, jobId));
    }

    /// <summary>The failed item a member of the failed set names: the job's, or its batch's item at <paramref name="index"/>.</summary>
    public FanOutFailedItem? ItemAt(int? index)
    {
        var failedAt = FanOutRuns.ParseFailedAt(_state.GetValueOrDefault("FailedAt"));
        if (_item is not null)
        {
            return index is null
                ? new FanOutFailedItem(_item.HandlerId, _item.ItemKey, _jobId, _state.GetValueOrDefault("ExceptionType"), _state.GetValueOrDefault("ExceptionMessage"), failedAt, _log)
                : null;
        }

        if (index is not { } at || at >= _batch!.Count)
        {
            return null;
        }

        var (type, message) = _outcomes.Errors.TryGetValue(at, out var own)
            ? own
            : (_state.GetValueOrDefault("ExceptionType"), _state.GetValueOrDefault("ExceptionMessage"));
        return new FanOutFailedItem(_batch.HandlerId, _batch.ItemKeys[at], _jobId, type, message, failedAt, _log);
    }
}
