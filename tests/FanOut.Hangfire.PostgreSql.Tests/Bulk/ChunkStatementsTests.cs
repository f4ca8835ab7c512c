using System.Text.RegularExpressions;
using FanOut.Hangfire.PostgreSql.Bulk;
using Hangfire.Common;
using Npgsql;
using NpgsqlTypes;

namespace FanOut.Hangfire.PostgreSql.Tests.Bulk;

/// <summary>The fast path's statements as PostgreSQL would receive them: their text, and the parameters of each batch.</summary>
public sealed class ChunkStatementsTests
{
    private static readonly DateTime CreatedAt = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Theory]
    [InlineData("hangfire", "\"hangfire\"")]
    [InlineData("Hangfire", "\"Hangfire\"")]
    [InlineData("fan out jobs", "\"fan out jobs\"")]
    [InlineData("fan\"out", "\"fan\"\"out\"")]
    public void Statements_NameEachTableInTheSchemaQuoted_KeepingItsCase(string schema, string quoted)
    {
        var statements = new ChunkStatements(schema, "job_seq", "state_seq");

        var tables = EveryStatement(statements).Select(c => (c.CommandText, Table: TableOf(c.CommandText, quoted))).ToList();

        tables.Select(t => t.Table).Should().Equal(
            "job", "jobparameter", "state", "jobqueue", "hash", "hash", "hash", "counter", "set", "set");
        tables.Should().OnlyContain(
            t => t.CommandText.Contains(quoted + ".\"" + t.Table + "\"", StringComparison.Ordinal),
            "an unquoted name would be folded to lower case, and a quote in it would end the name");
    }

    [Fact]
    public void Statements_HaveAParameterForEachPlaceholder()
    {
        var statements = new ChunkStatements("hangfire", "job_seq", "state_seq");

        foreach (var command in EveryStatement(statements))
        {
            var placeholders = Regex.Matches(command.CommandText, @"\$(\d+)").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct();
            placeholders.Should().BeEquivalentTo(Enumerable.Range(1, command.Parameters.Count), command.CommandText);
        }
    }

    [Fact]
    public void JobRows_JobsWithNoParametersStatesOrQueues_AreOneInsertOfTheJobs()
    {
        var statements = new ChunkStatements("hangfire", "job_seq", "state_seq");

        var commands = statements.JobRows([NewJob(1), NewJob(2)]);

        commands.Should().ContainSingle().Which.CommandText.Should().Contain("INSERT INTO \"hangfire\".\"job\"");
        commands[0].Parameters.Should().HaveCount(8).And.OnlyContain(p => ((Array)p.Value!).Length == 2, "one array element a job");
    }

    [Fact]
    public void JobRows_OneStatementATable_JobsFirst_WithARowForEachParameterStateAndQueueEntry()
    {
        var first = NewJob(1, ("CurrentCulture", "\"fr-FR\""), ("RetryCount", "0"));
        AddState(first, 11, "Scheduled");
        AddState(first, 12, "Enqueued");
        first.Queues.Add("default");
        var second = NewJob(2, ("CurrentCulture", "\"fr-FR\""));
        AddState(second, 13, "Enqueued");
        second.Queues.Add("critical");
        var third = NewJob(3);

        var commands = new ChunkStatements("hangfire", "job_seq", "state_seq").JobRows([first, second, third]);

        commands.Select(c => TableOf(c.CommandText, "\"hangfire\"")).Should().Equal("job", "jobparameter", "state", "jobqueue");
        Values<long>(commands[0], 0).Should().Equal(1, 2, 3);
        Values<long?>(commands[0], 1).Should().Equal(12, 13, null);
        Values<string?>(commands[0], 2).Should().Equal("Enqueued", "Enqueued", null);
        Values<long>(commands[1], 0).Should().Equal(1, 1, 2);
        Values<string>(commands[1], 1).Should().Equal("CurrentCulture", "RetryCount", "CurrentCulture");
        Values<long>(commands[2], 0).Should().Equal(11, 12, 13);
        Values<long>(commands[2], 1).Should().Equal(1, 1, 2);
        Values<string>(commands[2], 2).Should().Equal("Scheduled", "Enqueued", "Enqueued");
        Values<long>(commands[3], 0).Should().Equal(1, 2);
        Values<string>(commands[3], 1).Should().Equal("default", "critical");
    }

    [Fact]
    public void JobRows_TimesGoAsTimestamptz_EvenAnExpiryThatIsNullForEveryJob()
    {
        var job = NewJob(1);
        job.ExpireAt = null;

        var command = new ChunkStatements("hangfire", "job_seq", "state_seq").JobRows([job]).Single();

        command.Parameters[5].NpgsqlDbType.Should().Be(NpgsqlDbType.Array | NpgsqlDbType.TimestampTz);
        command.Parameters[6].NpgsqlDbType.Should().Be(NpgsqlDbType.Array | NpgsqlDbType.TimestampTz);
        Values<DateTime?>(command, 6).Should().Equal([null]);
    }

    [Fact]
    public void JobRows_StateWithoutData_IsStoredAsAnEmptyJsonObject()
    {
        var job = NewJob(1);
        job.States.Add(new RecordedState("Enqueued", reason: null, CreatedAt, data: string.Empty) { Id = 11 });

        var states = new ChunkStatements("hangfire", "job_seq", "state_seq").JobRows([job])[1];

        Values<string>(states, 5).Should().Equal("{}");
    }

    [Fact]
    public void Notify_SignalsTheChannelHangfirePostgreSqlWorkersListenOn()
    {
        ChunkStatements.Notify().CommandText.Should().Be("NOTIFY new_job");
    }

    /// <summary>Every statement but the id allocation, which only a database can run: the job rows, then the other writes.</summary>
    private static List<NpgsqlBatchCommand> EveryStatement(ChunkStatements statements)
    {
        var job = NewJob(1, ("RetryCount", "0"));
        AddState(job, 11, "Enqueued");
        job.Queues.Add("default");
        return
        [
            .. statements.JobRows([job]),
            statements.SetHashFields("run:1", ["Status"], ["dispatched"]),
            statements.RemoveHash("run:1"),
            statements.SetHashExpiry("run:1", CreatedAt),
            statements.AddToCounter("stats:succeeded", 1, 3600),
            statements.AddToSet("runs", "1", 0),
            statements.RemoveFromSet("runs", "1"),
        ];
    }

    private static string TableOf(string sql, string quotedSchema)
    {
        var match = Regex.Match(sql, "(?:INSERT INTO|DELETE FROM|UPDATE) " + Regex.Escape(quotedSchema) + "\\.\"(\\w+)\"");
        match.Success.Should().BeTrue($"the statement names a table in the schema {quotedSchema}: {sql}");
        return match.Groups[1].Value;
    }

    private static T[] Values<T>(NpgsqlBatchCommand command, int parameter) => (T[])command.Parameters[parameter].Value!;

    private static RecordedJob NewJob(long id, params (string Name, string? Value)[] parameters) =>
        new(id, Job.FromExpression<TenantJob>(j => j.Notify("tenant")), parameters.ToDictionary(p => p.Name, p => p.Value), CreatedAt, CreatedAt.AddDays(1));

    private static void AddState(RecordedJob job, long id, string name)
    {
        var state = new RecordedState(name, reason: null, CreatedAt, data: "{\"Queue\":\"default\"}") { Id = id };
        job.States.Add(state);
        job.CurrentState = state;
    }

    private sealed class TenantJob
    {
        public void Notify(string tenant) => ArgumentNullException.ThrowIfNull(tenant);
    }
}
