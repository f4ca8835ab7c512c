using FanOut.Hangfire.Dispatch;
using FanOut.Hangfire.Tests.Fakes;
using FanOut.Hangfire.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FanOut.Hangfire.Tests.Hosting;

/// <summary>
/// A dispatching process that stopped for good in the middle of a cron run, as a killed one looks from storage: its
/// dispatch job stays Processing, its lease is renewed no more and has run out, and the run's checkpoint is where its
/// last chunk committed (500 of 1,250 items; the third chunk's jobs were created, never committed). In a test process it
/// is a host whose clock stands an hour back, so that every lease it writes has run out for everyone else and its
/// keep-alive never ticks, and whose dispatch blocks before its third chunk commits. A second host on the same storage,
/// on the real clock, plays the process that carries on.
/// </summary>
internal sealed class FrozenDispatcher : IAsyncDisposable
{
    public const string FanOutId = "tenants";
    public const string Event = "tenant/due";
    public const string Handler = "notify";
    public const int ChunkSize = 250;
    public const int Items = 1_250;
    public const int Checkpoint = 500;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly IHost _host;
    private readonly ManualResetEventSlim _thaw;

    private FrozenDispatcher(IHost host, ManualResetEventSlim thaw, string runId, string jobId)
    {
        _host = host;
        _thaw = thaw;
        RunId = runId;
        JobId = jobId;
    }

    /// <summary>The run left dispatching.</summary>
    public string RunId { get; }

    /// <summary>Its dispatch job, left Processing.</summary>
    public string JobId { get; }

    /// <summary>What every process of the test declares: a cron fan-out reading <see cref="ReadRecordingSource"/>, one handler.</summary>
    public static void Declare(IFanOutBuilder fanOut) => fanOut
        .AddCron<ReadRecordingSource>(FanOutId, "0 0 1 1 *", sends: Event)
        .AddHandler<RecordingHandler>(Handler, on: Event);

    /// <summary>The services every process of the test shares, and the options they all run with.</summary>
    public static IServiceCollection AddShared(IServiceCollection services, Recorder recorder, TestItems items, SourceReads reads)
    {
        services.AddSingleton(recorder).AddSingleton(items).AddSingleton(reads);
        services.Configure<FanOutOptions>(o => o.ChunkSize = ChunkSize);
        return services;
    }

    /// <summary>Fires the fan-out on a host of its own, as its cron would, and returns once that host's dispatch has stopped.</summary>
    public static async Task<FrozenDispatcher> StartAsync(JobStorage storage, Recorder recorder, TestItems items, SourceReads reads)
    {
        var thaw = new ManualResetEventSlim();
        var stopped = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new DispatchHooks
        {
            ChunkCommitting = (runId, next) =>
            {
                if (next.Items == Checkpoint + ChunkSize)
                {
                    stopped.TrySetResult(runId);
                    thaw.Wait();
                    throw new InvalidOperationException("This dispatcher stopped here and never came back.");
                }
            },
        };

        // One worker, held by the frozen dispatch, so this host runs nothing else of the test.
        var host = TestHost.Build(
            storage,
            Declare,
            services => AddShared(services, recorder, items, reads)
                .AddSingleton(hooks)
                .AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(1))),
            workers: 1);
        try
        {
            await host.StartAsync();
            host.Services.GetRequiredService<IRecurringJobManager>().Trigger("fanout:" + FanOutId);
            var runId = await stopped.Task.WaitAsync(Timeout);
            var jobId = storage.GetMonitoringApi().ProcessingJobs(0, 10)
                .Single(j => j.Value.Job?.Type == typeof(FanOutDispatchJob)).Key;
            return new FrozenDispatcher(host, thaw, runId, jobId);
        }
        catch
        {
            thaw.Set();
            await StopAsync(host);
            thaw.Dispose();
            throw;
        }
    }

    /// <summary>Lets the frozen dispatch fail and stops the host; the storage is left to the other host.</summary>
    public async ValueTask DisposeAsync()
    {
        _thaw.Set();
        await StopAsync(_host);
        _thaw.Dispose();
    }

    private static async Task StopAsync(IHost host)
    {
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();

        // AddHangfire points Hangfire's static log provider at this host's logger factory, now disposed.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
    }
}
