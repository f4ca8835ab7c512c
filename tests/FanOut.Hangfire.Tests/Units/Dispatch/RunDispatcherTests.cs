using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Registration;
using FanOut.Hangfire.Runs;
using FanOut.Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Tests.Units.Dispatch;

/// <summary>
/// Streaming items into chunks, each committed with its checkpoint, through a recording writer: what is reported
/// dispatched is what committed, in order, and reading stays at most one chunk ahead of the commits.
/// </summary>
public sealed class RunDispatcherTests : IDisposable
{
    private const string Event = "tenant/due";
    private const string FanOutId = "nightly";
    private const int ChunkSize = 2;
    private const string RunId = "0195a1b2c3d4";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    // A dispatch left waiting for a commit that never comes fails the test instead of hanging it.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly UnitServices _units = new(
        fanOut => fanOut
            .AddHandler<NoopHandler>("send-email", on: Event)
            .AddHandler<NoopHandler>("send-slack", on: Event)
            .UseChunkWriter<RecordingChunkWriter>(),
        options =>
        {
            options.ChunkSize = ChunkSize;
            options.DispatchLeaseDuration = LeaseDuration;
        });

    private readonly RunDispatcher _dispatcher;
    private readonly RecordingChunkWriter _writer;
    private readonly RegisteredEvent _event;
    private readonly List<DispatchCheckpoint> _committed = [];

    public RunDispatcherTests()
    {
        _dispatcher = _units.Get<RunDispatcher>();
        _writer = (RecordingChunkWriter)_units.Get<IFanOutChunkWriter>();
        _event = _units.Get<FanOutRegistry>().FindEvent(Event)!;
        using var connection = _units.Storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();
        _units.Get<RunStore>().Start(transaction, RunId, RunRecord.CronKind, FanOutId, Event, _event.Handlers.Select(h => h.Id));
        transaction.Commit();
    }

    public void Dispose() => _units.Dispose();

    [Fact]
    public async Task Dispatch_WritesTheChunksInOrder_EachWithItsCheckpoint()
    {
        var done = await DispatchAsync(new ItemStream(ItemStream.Keys(5)));

        _writer.Chunks.Select(c => (c.Number, c.RunId, c.EventName, c.ItemCount, c.JobCount))
            .Should().Equal((1, RunId, Event, 2, 4), (2, RunId, Event, 2, 4), (3, RunId, Event, 1, 2));
        _writer.Chunks.Select(c => c.Checkpoint).Should().Equal(
            new DispatchCheckpoint(2, 4, "t-2"),
            new DispatchCheckpoint(4, 8, "t-4"),
            new DispatchCheckpoint(5, 10, "t-5"));
        _committed.Should().Equal(_writer.Chunks.Select(c => c.Checkpoint!.Value), "each checkpoint is reported once committed, in order");
        done.Should().Be(new DispatchCheckpoint(5, 10, "t-5"));
        StoredCheckpoint().Should().Be(done);
    }

    [Fact]
    public async Task Dispatch_ChainsEachChunkToTheCommitOfTheOneBefore()
    {
        await DispatchAsync(new ItemStream(ItemStream.Keys(5)));

        var chunks = _writer.Chunks;
        chunks[0].PreviousCommit.IsCompletedSuccessfully.Should().BeTrue("the first chunk follows nothing");
        chunks[1].PreviousCommit.Should().BeSameAs(chunks[0].Committed);
        chunks[2].PreviousCommit.Should().BeSameAs(chunks[1].Committed);
    }

    [Fact]
    public async Task Dispatch_OfNoItems_WritesNoChunk_AndReturnsWhereItStarted()
    {
        var done = await DispatchAsync(new ItemStream([]));

        _writer.Chunks.Should().BeEmpty();
        _committed.Should().BeEmpty();
        done.Should().Be(DispatchCheckpoint.Start);
    }

    [Fact]
    public async Task Dispatch_ResumingFromACheckpoint_SkipsTheItemsAlreadyDispatched()
    {
        var stream = new ItemStream(ItemStream.Keys(5));

        var done = await DispatchAsync(stream, resumeFrom: new DispatchCheckpoint(2, 4, "t-2"));

        _writer.Chunks.Select(c => c.ItemCount).Should().Equal(2, 1);
        _committed.Should().Equal(new DispatchCheckpoint(4, 8, "t-4"), new DispatchCheckpoint(5, 10, "t-5"));
        done.Should().Be(new DispatchCheckpoint(5, 10, "t-5"));
        stream.Pulled.Should().Be(5, "the items already dispatched are read again to find where to resume");
    }

    [Fact]
    public async Task Dispatch_ResumingWhereTheSourceNowYieldsAnotherItem_FailsNamingBothKeys_AndWritesNothing()
    {
        var stream = new ItemStream(["t-1", "t-9", "t-3"]);

        var dispatch = () => DispatchAsync(stream, resumeFrom: new DispatchCheckpoint(2, 4, "t-2"));

        await dispatch.Should().ThrowExactlyAsync<InvalidOperationException>()
            .WithMessage($"Run {RunId} cannot resume: item #2 was 't-2' when it was dispatched and is now 't-9'.*order it by a stable key*");
        _writer.Chunks.Should().BeEmpty();
    }

    [Fact]
    public async Task Dispatch_ResumingFromTheEnd_WritesNothingMore()
    {
        var done = await DispatchAsync(new ItemStream(ItemStream.Keys(4)), resumeFrom: new DispatchCheckpoint(4, 8, "t-4"));

        _writer.Chunks.Should().BeEmpty();
        done.Should().Be(new DispatchCheckpoint(4, 8, "t-4"));
    }

    [Fact]
    public async Task Dispatch_WhenAChunksCommitFails_StopsAndReportsNoLaterChunk()
    {
        _writer.FailingChunk = 2;

        var dispatch = () => DispatchAsync(new ItemStream(ItemStream.Keys(9)));

        await dispatch.Should().ThrowExactlyAsync<InvalidOperationException>().WithMessage("Chunk 2 did not commit.");
        _committed.Should().Equal([new DispatchCheckpoint(2, 4, "t-2")], "only the first chunk committed");
        StoredCheckpoint().Should().Be(new DispatchCheckpoint(2, 4, "t-2"));
        _writer.Chunks.Should().HaveCount(3, "the chunk after the failed one was written while it committed, and none after that");
        _writer.Chunks[2].Committed.IsFaulted.Should().BeTrue();
    }

    [Fact]
    public async Task Dispatch_ReadsAtMostOneChunkAheadOfWhatCommitted()
    {
        _writer.CommitsWhenTold = true;
        var stream = new ItemStream(ItemStream.Keys(7));

        var dispatch = DispatchAsync(stream);

        // Chunk 1 commits while chunk 2 is written; then the dispatch waits for chunk 1.
        await Eventually.HoldsAsync(() => _writer.Chunks.Count >= 2, () => "two chunks written");
        (_writer.Chunks.Count, stream.Pulled).Should().Be((2, 4L));
        _committed.Should().BeEmpty();

        _writer.Chunks[0].Commit();
        await Eventually.HoldsAsync(() => _writer.Chunks.Count >= 3, () => "a third chunk written");
        (_writer.Chunks.Count, stream.Pulled).Should().Be((3, 6L));
        _committed.Should().Equal(new DispatchCheckpoint(2, 4, "t-2"));

        _writer.Chunks[1].Commit();
        await Eventually.HoldsAsync(() => _writer.Chunks.Count >= 4, () => "the last chunk written");
        (_writer.Chunks.Count, stream.Pulled).Should().Be((4, 7L));
        dispatch.IsCompleted.Should().BeFalse("chunks 3 and 4 have not committed");

        _writer.Chunks[2].Commit();
        _writer.Chunks[3].Commit();
        (await dispatch).Should().Be(new DispatchCheckpoint(7, 14, "t-7"));
        _committed.Should().Equal(
            new DispatchCheckpoint(2, 4, "t-2"),
            new DispatchCheckpoint(4, 8, "t-4"),
            new DispatchCheckpoint(6, 12, "t-6"),
            new DispatchCheckpoint(7, 14, "t-7"));
    }

    [Fact]
    public async Task Dispatch_WhenACommitFailsWhileTheNextChunkCommits_ReportsNeither_AndThrowsTheFirstFailure()
    {
        _writer.CommitsWhenTold = true;
        var dispatch = DispatchAsync(new ItemStream(ItemStream.Keys(9)));
        await Eventually.HoldsAsync(() => _writer.Chunks.Count >= 2, () => "two chunks written");

        _writer.Chunks[0].Fail(new InvalidOperationException("The database went away."));
        dispatch.IsCompleted.Should().BeFalse("the dispatch lets the chunk already written finish first");
        _writer.Chunks[1].Commit();

        await dispatch.Invoking(d => d).Should().ThrowExactlyAsync<InvalidOperationException>().WithMessage("The database went away.");
        _committed.Should().BeEmpty();
        _writer.Chunks.Should().HaveCount(2);
    }

    [Fact]
    public async Task Dispatch_WhenTheSourceFailsWhileAChunkCommits_ReportsThatChunkOnceCommitted_ThenThrows()
    {
        _writer.CommitsWhenTold = true;
        var stream = new ItemStream(ItemStream.Keys(9), beforeItem: n =>
        {
            if (n == 3)
            {
                throw new IOException("The source lost its connection.");
            }
        });
        var dispatch = DispatchAsync(stream);
        await Eventually.HoldsAsync(() => _writer.Chunks.Count >= 1, () => "the first chunk written");

        dispatch.IsCompleted.Should().BeFalse("what is reported dispatched must be what committed: the dispatch waits for the chunk");
        _writer.Chunks[0].Commit();

        await dispatch.Invoking(d => d).Should().ThrowExactlyAsync<IOException>().WithMessage("The source lost its connection.");
        _committed.Should().Equal(new DispatchCheckpoint(2, 4, "t-2"));
    }

    [Fact]
    public async Task Dispatch_CancelledWhileTheStreamIgnoresTheToken_StopsBeforeTheNextChunk()
    {
        using var cancellation = new CancellationTokenSource();
        var stream = new ItemStream(ItemStream.Keys(9));

        var dispatch = () => DispatchAsync(stream, committed: c =>
        {
            _committed.Add(c);
            cancellation.Cancel();
        }, cancellationToken: cancellation.Token);

        await dispatch.Should().ThrowAsync<OperationCanceledException>();
        _committed.Should().Equal([new DispatchCheckpoint(2, 4, "t-2"), new DispatchCheckpoint(4, 8, "t-4")], "the chunk written before the cancellation was seen still committed");
        _writer.Chunks.Should().HaveCount(2);
        stream.Pulled.Should().Be(5, "the item pulled after the cancellation was not dispatched");
    }

    [Fact]
    public async Task Dispatch_WithALeaseGuard_RenewsTheLeaseWithEveryChunk()
    {
        var lease = _units.Get<DispatchLease>();
        var owner = DispatchLease.NewOwner(RunId);
        lease.TryAcquire(FanOutId, owner);
        var stream = new ItemStream(ItemStream.Keys(3), beforeItem: n =>
        {
            if (n == 3)
            {
                _units.Clock.Advance(TimeSpan.FromSeconds(20));
            }
        });

        await DispatchAsync(stream, guard: lease.GuardFor(FanOutId, owner));

        LeaseExpiresAt().Should().Be(UnitClock.T0 + TimeSpan.FromSeconds(20) + LeaseDuration, "the last chunk committed 20 s in");
    }

    [Fact]
    public async Task Dispatch_WhenAnotherExecutionOfTheRunTookTheLease_StopsBeforeWritingTheNextChunk()
    {
        var lease = _units.Get<DispatchLease>();
        var owner = DispatchLease.NewOwner(RunId);
        lease.TryAcquire(FanOutId, owner);
        var stream = new ItemStream(ItemStream.Keys(9), beforeItem: n =>
        {
            if (n == 3)
            {
                // This execution stalled past its lease; a newer execution of the same run took it over.
                _units.Clock.Advance(LeaseDuration);
                lease.TryAcquire(FanOutId, DispatchLease.NewOwner(RunId)).Should().BeNull();
            }
        });

        var dispatch = () => DispatchAsync(stream, guard: lease.GuardFor(FanOutId, owner));

        await dispatch.Should().ThrowExactlyAsync<DispatchSupersededException>();
        _writer.Chunks.Should().ContainSingle();
        _committed.Should().Equal([new DispatchCheckpoint(2, 4, "t-2")], "the chunk written under the lease committed");
    }

    private Task<DispatchCheckpoint> DispatchAsync(
        ItemStream stream,
        DispatchCheckpoint? resumeFrom = null,
        ICommitGuard? guard = null,
        Action<DispatchCheckpoint>? committed = null,
        CancellationToken cancellationToken = default) =>
        _dispatcher.DispatchAsync(RunId, _event, stream, resumeFrom ?? DispatchCheckpoint.Start, guard, committed ?? _committed.Add, cancellationToken)
            .WaitAsync(Timeout, CancellationToken.None);

    private DispatchCheckpoint StoredCheckpoint()
    {
        using var connection = _units.Storage.GetConnection();
        return _units.Get<RunStore>().Find(connection, RunId)!.Checkpoint;
    }

    private DateTimeOffset LeaseExpiresAt()
    {
        using var connection = _units.Storage.GetConnection();
        return DateTimeOffset.Parse(
            connection.GetAllEntriesFromHash(StorageKeys.Lease(FanOutId))[DispatchLease.ExpiresField],
            System.Globalization.CultureInfo.InvariantCulture);
    }
}
