using Hangfire.Common;
using Hangfire.Server;
using Hangfire.Storage;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// A storage connection that hands every call to Hangfire's own connection: the base of the fast path's connections,
/// which answer or record some calls themselves and leave the rest to Hangfire.
/// </summary>
internal abstract class ForwardingConnection(JobStorageConnection inner) : JobStorageConnection
{
    /// <summary>Hangfire's own connection, which belongs to the caller.</summary>
    protected JobStorageConnection Inner { get; } = inner;

    public override IWriteOnlyTransaction CreateWriteTransaction() => Inner.CreateWriteTransaction();

    public override string CreateExpiredJob(Job job, IDictionary<string, string> parameters, DateTime createdAt, TimeSpan expireIn) =>
        Inner.CreateExpiredJob(job, parameters, createdAt, expireIn);

    public override void SetJobParameter(string id, string name, string value) => Inner.SetJobParameter(id, name, value);

    public override string GetJobParameter(string id, string name) => Inner.GetJobParameter(id, name);

    public override JobData GetJobData(string jobId) => Inner.GetJobData(jobId);

    public override StateData GetStateData(string jobId) => Inner.GetStateData(jobId);

    public override IDisposable AcquireDistributedLock(string resource, TimeSpan timeout) => Inner.AcquireDistributedLock(resource, timeout);

    public override IFetchedJob FetchNextJob(string[] queues, CancellationToken cancellationToken) => Inner.FetchNextJob(queues, cancellationToken);

    public override void AnnounceServer(string serverId, ServerContext context) => Inner.AnnounceServer(serverId, context);

    public override void RemoveServer(string serverId) => Inner.RemoveServer(serverId);

    public override void Heartbeat(string serverId) => Inner.Heartbeat(serverId);

    public override int RemoveTimedOutServers(TimeSpan timeOut) => Inner.RemoveTimedOutServers(timeOut);

    public override HashSet<string> GetAllItemsFromSet(string key) => Inner.GetAllItemsFromSet(key);

    public override string GetFirstByLowestScoreFromSet(string key, double fromScore, double toScore) =>
        Inner.GetFirstByLowestScoreFromSet(key, fromScore, toScore);

    public override List<string> GetFirstByLowestScoreFromSet(string key, double fromScore, double toScore, int count) =>
        Inner.GetFirstByLowestScoreFromSet(key, fromScore, toScore, count);

    public override void SetRangeInHash(string key, IEnumerable<KeyValuePair<string, string>> keyValuePairs) =>
        Inner.SetRangeInHash(key, keyValuePairs);

    public override Dictionary<string, string> GetAllEntriesFromHash(string key) => Inner.GetAllEntriesFromHash(key);

    public override long GetSetCount(string key) => Inner.GetSetCount(key);

    public override long GetSetCount(IEnumerable<string> keys, int limit) => Inner.GetSetCount(keys, limit);

    public override bool GetSetContains(string key, string value) => Inner.GetSetContains(key, value);

    public override List<string> GetRangeFromSet(string key, int startingFrom, int endingAt) => Inner.GetRangeFromSet(key, startingFrom, endingAt);

    public override TimeSpan GetSetTtl(string key) => Inner.GetSetTtl(key);

    public override string GetValueFromHash(string key, string name) => Inner.GetValueFromHash(key, name);

    public override long GetHashCount(string key) => Inner.GetHashCount(key);

    public override TimeSpan GetHashTtl(string key) => Inner.GetHashTtl(key);

    public override long GetListCount(string key) => Inner.GetListCount(key);

    public override List<string> GetAllItemsFromList(string key) => Inner.GetAllItemsFromList(key);

    public override List<string> GetRangeFromList(string key, int startingFrom, int endingAt) => Inner.GetRangeFromList(key, startingFrom, endingAt);

    public override TimeSpan GetListTtl(string key) => Inner.GetListTtl(key);

    public override long GetCounter(string key) => Inner.GetCounter(key);

    public override DateTime GetUtcDateTime() => Inner.GetUtcDateTime();
}
