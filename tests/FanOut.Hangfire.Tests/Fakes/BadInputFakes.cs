using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace FanOut.Hangfire.Tests.Fakes;

/// <summary>An object item: handlers of an event of accounts receive it read back from JSON.</summary>
public sealed record Account(string Id, int Seats);

/// <summary>What <see cref="LoggingHandler{TItem}"/> received, shared through DI as a singleton.</summary>
public sealed class ItemLog<TItem>
{
    public ConcurrentBag<(TItem Item, FanOutContext Context)> Calls { get; } = [];
}

/// <summary>A handler of any item type that logs the items it gets.</summary>
public sealed class LoggingHandler<TItem>(ItemLog<TItem> log) : IFanOutHandler<TItem>
{
    public Task HandleAsync(TItem item, FanOutContext context, CancellationToken cancellationToken)
    {
        log.Calls.Add((item, context));
        return Task.CompletedTask;
    }
}

/// <summary>An item type System.Text.Json cannot read back: an interface.</summary>
public interface IShape
{
    string Name { get; }
}

/// <summary>An item type System.Text.Json cannot read back: its constructor parameter binds to no property.</summary>
public sealed class SealedItem(string secret)
{
    public int Length { get; } = secret.Length;
}

/// <summary>A handler class that serves two item types, which a handler must not.</summary>
public sealed class TwoItemTypesHandler : IFanOutHandler<string>, IFanOutHandler<Account>
{
    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task HandleAsync(Account item, FanOutContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A service no test registers, so DI cannot build what depends on it.</summary>
public interface IUnregisteredDependency;

public sealed class UnbuildableHandler : IFanOutHandler<string>
{
    public UnbuildableHandler(IUnregisteredDependency dependency) => ArgumentNullException.ThrowIfNull(dependency);

    public Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class UnbuildableSource : IFanOutSource<string>
{
    public UnbuildableSource(IUnregisteredDependency dependency) => ArgumentNullException.ThrowIfNull(dependency);

    public IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, CancellationToken cancellationToken) =>
        AsyncEnumerable.Empty<string>();
}

/// <summary>Tells <see cref="FaultySource"/> when to break: after <see cref="FailAfter"/> items, on its first calls only.</summary>
public sealed class SourceFault
{
    private int _calls;

    public int FailAfter { get; init; }

    public int FailingCalls { get; init; } = 1;

    public int Calls => Volatile.Read(ref _calls);

    public int NextCall() => Interlocked.Increment(ref _calls);
}

/// <summary>Streams the test's items like <see cref="ListSource"/>, but throws part-way as its <see cref="SourceFault"/> says.</summary>
public sealed class FaultySource(TestItems items, SourceFault fault) : IFanOutSource<string>
{
    public async IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var call = fault.NextCall();
        for (var i = 0; i < items.Ids.Count; i++)
        {
            if (call <= fault.FailingCalls && i == fault.FailAfter)
            {
                throw new InvalidOperationException($"The source broke after {i} items (call {call}).");
            }

            cancellationToken.ThrowIfCancellationRequested();
            yield return items.Ids[i];
        }

        await Task.CompletedTask;
    }
}
