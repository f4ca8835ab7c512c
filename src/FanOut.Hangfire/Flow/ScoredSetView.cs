using Hangfire.Storage;

namespace FanOut.Hangfire.Flow;

/// <summary>
/// A storage set ordered by score, as seen by a holder of its limit's lock: the lowest-scored members read a page at a
/// time, with the changes made since (not committed yet) laid over them. Members appended here always score above every
/// stored one (their scores come from counters that only grow), so they come after the stored ones, in the order
/// appended.
/// </summary>
internal sealed class ScoredSetView(JobStorageConnection connection, string key)
{
    private const int PageSize = 50;

    private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);
    private readonly List<string> _appended = [];
    private readonly HashSet<string> _stored = new(StringComparer.Ordinal);
    private List<string>? _page;
    private bool _pageIsAll;

    public string? First()
    {
        while (true)
        {
            _page ??= Load(PageSize + _skipped.Count);
            foreach (var member in _page)
            {
                if (!_skipped.Contains(member))
                {
                    return member;
                }
            }

            if (_pageIsAll)
            {
                return _appended.Count > 0 ? _appended[0] : null;
            }

            // Every member of the page was taken here; the stored set goes on beyond it.
            _page = Load(_page.Count + PageSize);
        }
    }

    public void Remove(string member)
    {
        _skipped.Add(member);
        _appended.Remove(member);
    }

    /// <summary>Adds the member at the end, or moves it there.</summary>
    public void Append(string member)
    {
        _skipped.Add(member);
        _appended.Remove(member);
        _appended.Add(member);
    }

    /// <summary>Records that <paramref name="member"/> was written to the stored set (by a transaction of the lock holder's).</summary>
    public void Stored(string member) => _stored.Add(member);

    /// <summary>
    /// Whether <paramref name="member"/> is surely not in the stored set: the whole set was read and it was not there, and
    /// the lock holder has not written it since. Then removing it needs no write.
    /// </summary>
    public bool IsKnownAbsent(string member) => _page is not null && _pageIsAll && !_page.Contains(member) && !_stored.Contains(member);

    private List<string> Load(int count)
    {
        var page = connection.GetFirstByLowestScoreFromSet(key, double.NegativeInfinity, double.PositiveInfinity, count);
        _pageIsAll = page.Count < count;
        return page;
    }
}
