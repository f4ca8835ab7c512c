using FanOut.Hangfire.Flow;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// The limit lock <c>UsePostgreSqlDispatch</c> installs: PostgreSQL advisory locks, shared by every process on one
/// database, handed over by the server the moment they are let go, and the core's default on any other storage.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdvisoryLimitLockTests(PostgresServer postgres)
{
    private const string Resource = "fanout:flow-lock:handler:notify";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public void KeyOf_IsPinned_AndDiffersBySchemaAndResource()
    {
        // Every process and every version must take the same lock for a limit: the key is a stored contract.
        AdvisoryLimitLock.KeyOf("hangfire", Resource).Should().Be(PinnedKey);
        AdvisoryLimitLock.KeyOf("other", Resource).Should().NotBe(PinnedKey);
        AdvisoryLimitLock.KeyOf("hangfire", "fanout:flow-lock:handler:audit").Should().NotBe(PinnedKey);
    }

    [Fact]
    public async Task Acquire_TwoProcessesManyThreads_NeverHoldTheLockTogether()
    {
        var database = await postgres.CreateDatabaseAsync("advisory_mutex");
        var first = LockOn(database);
        var second = LockOn(database);
        var inside = 0;
        var peak = 0;
        var entries = 0;

        var workers = Enumerable.Range(0, 6).Select(i => Task.Run(() =>
        {
            var limitLock = i % 2 == 0 ? first : second;
            for (var n = 0; n < 15; n++)
            {
                using (limitLock.Acquire(Resource, Timeout))
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref peak, now);
                    Interlocked.Increment(ref entries);
                    Thread.SpinWait(20_000);
                    Interlocked.Decrement(ref inside);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(Timeout);

        entries.Should().Be(90);
        peak.Should().Be(1, "an advisory lock is held by one session at a time, across processes");
        first.Chosen.Should().BeOfType<AdvisoryLimitLock>();
        second.Chosen.Should().BeOfType<AdvisoryLimitLock>();
    }

    [Fact]
    public async Task Acquire_HeldByAnotherProcess_ThrowsALockTimeoutNamingTheResource_AndOtherResourcesAreFree()
    {
        var database = await postgres.CreateDatabaseAsync("advisory_timeout");
        var holder = LockOn(database);
        var waiter = LockOn(database);

        using (holder.Acquire(Resource, Timeout))
        {
            var thrown = waiter.Invoking(w => w.Acquire(Resource, TimeSpan.FromMilliseconds(300)))
                .Should().Throw<DistributedLockTimeoutException>().Which;
            thrown.Message.Should().Contain(Resource);
            thrown.Should().BeAssignableTo<TimeoutException>();

            using (waiter.Acquire("fanout:flow-lock:handler:audit", Timeout))
            {
                // Another limit's lock is another key.
            }
        }

        using (waiter.Acquire(Resource, TimeSpan.FromMilliseconds(300)))
        {
            // Free once let go; the failed wait left nothing behind.
        }

        (await AdvisoryLocksHeldAsync(database)).Should().Be(0);
    }

    [Fact]
    public async Task Release_WithAWaiterQueuedOnTheServer_HandsTheLockToIt()
    {
        var database = await postgres.CreateDatabaseAsync("advisory_handover");
        var holder = LockOn(database);
        var waiter = LockOn(database);
        var held = holder.Acquire(Resource, Timeout);

        var waiting = Task.Run(() => waiter.Acquire(Resource, Timeout));

        // The waiter is queued by the server (a lock request not granted), not polling from the client: the server
        // grants it in the instant the holder lets go.
        await Wait.UntilAsync(
            () => AdvisoryLockRequestsAsync(database, granted: false).Result == 1,
            Timeout,
            () => "the waiter to queue on the advisory lock");
        waiting.IsCompleted.Should().BeFalse();

        held.Dispose();
        using (await waiting.WaitAsync(Timeout))
        {
            (await AdvisoryLockRequestsAsync(database, granted: true)).Should().Be(1);
            (await AdvisoryLockRequestsAsync(database, granted: false)).Should().Be(0);
        }

        (await AdvisoryLocksHeldAsync(database)).Should().Be(0);
    }

    [Fact]
    public async Task Acquire_HoldersConnectionBroken_TheLockIsFreeAndDisposingItDoesNotThrow()
    {
        var database = await postgres.CreateDatabaseAsync("advisory_broken");
        var holder = LockOn(database);
        var waiter = LockOn(database);
        var held = holder.Acquire(Resource, Timeout);

        await using (var admin = new NpgsqlConnection(database))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted", admin);
            (await kill.ExecuteScalarAsync()).Should().Be(true);
        }

        using (waiter.Acquire(Resource, Timeout))
        {
            // The session that held it ended, and the lock with it.
        }

        held.Invoking(h => h.Dispose()).Should().NotThrow("the lock went with the session");
        using (holder.Acquire(Resource, Timeout))
        {
            // The holder's process takes it again on a fresh connection.
        }
    }

    [Fact]
    public async Task UsePostgreSqlDispatch_OnPostgres_InstallsTheAdvisoryLock()
    {
        var database = await postgres.CreateDatabaseAsync("advisory_installed");
        await using var host = await TestHost.StartAsync(TestHost.Postgres(database), fanOut => fanOut.UsePostgreSqlDispatch(), server: false);

        var installed = host.Services.GetRequiredService<IFanOutLimitLock>();

        installed.Should().BeOfType<PostgreSqlLimitLock>().Which.Chosen.Should().BeOfType<AdvisoryLimitLock>();
    }

    [Fact]
    public async Task UsePostgreSqlDispatch_OnAnotherStorage_KeepsTheCoresDefaultLock()
    {
        await using var host = await TestHost.StartAsync(TestHost.InMemory(), fanOut => fanOut.UsePostgreSqlDispatch(), server: false);

        var installed = (PostgreSqlLimitLock)host.Services.GetRequiredService<IFanOutLimitLock>();

        installed.Chosen.Should().BeOfType<StorageLimitLock>();
        using (installed.Acquire(Resource, Timeout))
        {
            // The default works as before.
        }
    }

    [Fact]
    public async Task UsePostgreSqlDispatch_AfterALockOfTheApplicationsOwn_KeepsItForAnotherStorage()
    {
        await using var host = await TestHost.StartAsync(
            TestHost.InMemory(),
            fanOut => fanOut.UseLimitLock<OwnLock>().UsePostgreSqlDispatch(),
            server: false);

        var installed = (PostgreSqlLimitLock)host.Services.GetRequiredService<IFanOutLimitLock>();

        installed.Chosen.Should().BeOfType<OwnLock>();
    }

    // The value KeyOf gave when the key was first released; a change would let two versions run one limit unlocked.
    private const long PinnedKey = -3104054669928765535;

    private static PostgreSqlLimitLock LockOn(string database) =>
        new(new ProbedStorage(TestHost.Postgres(database)), () => throw new InvalidOperationException("The advisory lock was expected."));

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static async Task<long> AdvisoryLockRequestsAsync(string database, bool granted)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = granted });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static Task<long> AdvisoryLocksHeldAsync(string database) => AdvisoryLockRequestsAsync(database, granted: true);

    private sealed class OwnLock : IFanOutLimitLock
    {
        public IDisposable Acquire(string resource, TimeSpan timeout) => new MemoryStream();
    }
}
