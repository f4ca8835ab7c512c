using Hangfire;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>
/// What <see cref="FastPathProbe"/> found of the application's storage, probed once (a connection and a read of the
/// schema) and shared by the chunk writer, the state-change writer and the limit lock. A probe that throws (the
/// database not reachable yet) is not kept: the next use probes again.
/// </summary>
internal sealed class ProbedStorage(JobStorage storage)
{
    private readonly Lock _gate = new();
    private FastPathDecision? _decision;

    public FastPathDecision Decision
    {
        get
        {
            lock (_gate)
            {
                return _decision ??= FastPathProbe.Probe(storage);
            }
        }
    }
}
