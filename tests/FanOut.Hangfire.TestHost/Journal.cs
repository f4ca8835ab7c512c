using Npgsql;

namespace FanOut.Hangfire.TestHost;

/// <summary>
/// The host's own record of what ran, in tables beside Hangfire's: every handler call and every dispatch, with the
/// process that ran it and the database clock, so tests can compare processes on one clock.
/// </summary>
internal sealed class Journal(NpgsqlDataSource database)
{
    private const string Schema = """
        SELECT pg_advisory_xact_lock(5000001);
        CREATE SCHEMA IF NOT EXISTS reliability;
        CREATE TABLE IF NOT EXISTS reliability.executions (
            id bigserial PRIMARY KEY,
            run text NOT NULL,
            handler text NOT NULL,
            item text NOT NULL,
            attempt int NOT NULL,
            job_id text NOT NULL,
            pid int NOT NULL,
            started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            finished_at timestamptz,
            failed boolean NOT NULL DEFAULT false);
        CREATE TABLE IF NOT EXISTS reliability.dispatches (
            id bigserial PRIMARY KEY,
            fan_out text NOT NULL,
            run text NOT NULL,
            pid int NOT NULL,
            started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            finished_at timestamptz);
        """;

    private static readonly int Pid = Environment.ProcessId;

    /// <summary>Creates the tables; several hosts starting at once take turns.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(Schema, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task<long> ExecutionStartedAsync(FanOutContext context, CancellationToken cancellationToken) =>
        InsertAsync(
            "INSERT INTO reliability.executions (run, handler, item, attempt, job_id, pid) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            [context.RunId, context.HandlerId, context.ItemKey, context.Attempt, context.JobId, Pid],
            cancellationToken);

    public Task ExecutionFinishedAsync(long id, CancellationToken cancellationToken) =>
        FinishAsync("UPDATE reliability.executions SET finished_at = clock_timestamp() WHERE id = $1", id, cancellationToken);

    /// <summary>Records that a call finished by failing its item (a batch handler's per-item failure), not by handling it.</summary>
    public Task ExecutionFailedAsync(long id, CancellationToken cancellationToken) =>
        FinishAsync("UPDATE reliability.executions SET finished_at = clock_timestamp(), failed = true WHERE id = $1", id, cancellationToken);

    public Task<long> DispatchStartedAsync(FanOutSourceContext context, CancellationToken cancellationToken) =>
        InsertAsync(
            "INSERT INTO reliability.dispatches (fan_out, run, pid) VALUES ($1, $2, $3) RETURNING id",
            [context.FanOutId, context.RunId, Pid],
            cancellationToken);

    public Task DispatchFinishedAsync(long id, CancellationToken cancellationToken) =>
        FinishAsync("UPDATE reliability.dispatches SET finished_at = clock_timestamp() WHERE id = $1", id, cancellationToken);

    private async Task<long> InsertAsync(string sql, object[] values, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task FinishAsync(string sql, long id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
