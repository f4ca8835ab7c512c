using System.Globalization;
using FanOut.Hangfire.Dispatch;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.PostgreSql.Tests;

/// <summary>
/// The same items sent through the generic path and through the PostgreSQL fast path, into one database: what the
/// storage holds and returns for the two runs' jobs must be the same in everything but ids and timestamps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlFastPathEquivalenceTests(PostgresServer postgres)
{
    [Fact]
    public async Task FastPath_StoresTheSameJobsAsTheGenericPath()
    {
        await AssertBothPathsStoreTheSameAsync(_ => { });
    }

    [Fact]
    public async Task FastPath_WithFiltersAddingParametersAndStates_StoresTheSameJobsAsTheGenericPath()
    {
        // A parameter computed per job from its arguments, and an election that passes through a second state.
        await AssertBothPathsStoreTheSameAsync(services => services.AddSingleton<global::Hangfire.Common.IJobFilterProvider>(
            new ExtraFilters(new TenantParameterFilter(), new ReviewedEnqueueFilter())));
    }

    private async Task AssertBothPathsStoreTheSameAsync(Action<IServiceCollection> services)
    {
        var database = await postgres.CreateDatabaseAsync("fastpath_same");
        var items = TestItems.Numbered(130);
        void Declare(IFanOutBuilder fanOut) => fanOut
            .AddHandler<RecordingHandler>("notify", on: "tenant/due")
            .AddHandler<RecordingHandler>("audit", on: "tenant/due", o => o.Queue = "critical")
            .Services.Configure<FanOutOptions>(o => o.ChunkSize = 40);
        void Services(IServiceCollection s)
        {
            s.AddSingleton(new Recorder());
            services(s);
        }

        await using var generic = await TestHost.StartAsync(TestHost.Postgres(database), Declare, Services, server: false);
        await using var fast = await TestHost.StartAsync(TestHost.Postgres(database), f => Declare(f.UsePostgreSqlDispatch()), Services, server: false);

        string genericRun, fastRun;
        var (culture, uiCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            // Hangfire's CaptureCulture filter stores both when they differ.
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("fr-FR");
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("de-DE");
            genericRun = await generic.Client.SendManyAsync("tenant/due", items.Ids);
            fastRun = await fast.Client.SendManyAsync("tenant/due", items.Ids);
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, uiCulture);
        }

        fast.Services.GetRequiredService<IFanOutChunkWriter>().Should().BeOfType<PostgreSqlChunkWriter>()
            .Which.Decision.Target.Should().NotBeNull("the fast path was taken");

        var genericJobs = PostgreSqlFastPathRows.JobIds(generic.Storage, genericRun);
        var fastJobs = PostgreSqlFastPathRows.JobIds(fast.Storage, fastRun);
        genericJobs.Should().HaveCount(260);
        fastJobs.Should().HaveCount(260);

        var genericView = PostgreSqlFastPathRows.ThroughHangfire(generic.Storage, genericRun, genericJobs);
        var fastView = PostgreSqlFastPathRows.ThroughHangfire(fast.Storage, fastRun, fastJobs);
        fastView.Should().BeEquivalentTo(genericView, o => o.WithStrictOrdering());
        genericView.Values.Should().OnlyContain(j => j.State == EnqueuedState.StateName && j.ExpireAt == null);
        genericView.Values.Should().OnlyContain(j => j.Parameters.Contains("CurrentCulture=\"fr-FR\"") && j.Parameters.Contains("CurrentUICulture=\"de-DE\""));

        var genericRows = await PostgreSqlFastPathRows.RawRowsAsync(database, genericRun);
        var fastRows = await PostgreSqlFastPathRows.RawRowsAsync(database, fastRun);
        genericRows.Should().HaveCount(260);
        fastRows.Should().BeEquivalentTo(genericRows, o => o.WithStrictOrdering());
    }

    /// <summary>Hangfire's own filters plus the given ones, for every job.</summary>
    private sealed class ExtraFilters(params object[] filters) : IJobFilterProvider
    {
        public IEnumerable<JobFilter> GetFilters(Job job) =>
            JobFilterProviders.Providers.GetFilters(job).Concat(filters.Select(f => new JobFilter(f, JobFilterScope.Global, null)));
    }

    /// <summary>Stores the item key of each child job as a parameter of its own.</summary>
    private sealed class TenantParameterFilter : IClientFilter
    {
        public void OnCreating(CreatingContext context) => context.SetJobParameter("Tenant", ItemJobCodec.Instance.TryRead(context.Job, out var args) ? args.ItemKey : null);

        public void OnCreated(CreatedContext context)
        {
        }
    }

    /// <summary>Replaces the dispatch's Enqueued state with another, so each job passes through two states.</summary>
    private sealed class ReviewedEnqueueFilter : IElectStateFilter
    {
        public void OnStateElection(ElectStateContext context)
        {
            if (context.CandidateState is EnqueuedState { Reason: not "Reviewed" } enqueued)
            {
                context.CandidateState = new EnqueuedState(enqueued.Queue) { Reason = "Reviewed" };
            }
        }
    }
}
