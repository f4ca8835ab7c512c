using FanOut.Hangfire.Tests.Fakes;

namespace FanOut.Hangfire.Tests.Dashboard;

/// <summary>A handler whose calls hold their slot until the test opens the <see cref="Gate"/>, so the jobs behind them wait.</summary>
public sealed class GatedHandler(Gate gate) : IFanOutHandler<string>
{
    public async Task HandleAsync(string item, FanOutContext context, CancellationToken cancellationToken)
    {
        using var _ = gate.Enter();
        await gate.Open.Task.WaitAsync(cancellationToken);
    }
}
