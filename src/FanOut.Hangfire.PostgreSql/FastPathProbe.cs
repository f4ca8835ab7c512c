using System.Globalization;
using FanOut.Hangfire.PostgreSql.Bulk;
using Hangfire;
using Hangfire.PostgreSql;
using Npgsql;

namespace FanOut.Hangfire.PostgreSql;

/// <summary>What a probe of the storage decided: the fast path's target, or null and why the generic path is used.</summary>
internal sealed record FastPathDecision(PostgreSqlTarget? Target, string Description)
{
    /// <summary>A risk in the storage's configuration worth a warning, whichever path is taken (see <see cref="LongPollingAdvice"/>).</summary>
    public string? Advice { get; init; }

    /// <summary>Why the fast path declined a PostgreSQL storage it could not support, worth a warning; null when it did not.</summary>
    public string? Declined { get; init; }

    /// <summary>What to warn about: the decline, then the advice.</summary>
    public IEnumerable<string> Warnings => new[] { Declined, Advice }.OfType<string>();
}

/// <summary>
/// Decides whether the fast path may write to a storage. It writes Hangfire.PostgreSql's rows itself, so it accepts only
/// what it was built and tested against: Hangfire.PostgreSql's own storage class at version 1.21, with its default queue
/// provider, on a database whose schema is at version 23. Anything else keeps the generic path.
/// </summary>
internal static class FastPathProbe
{
    public const int SupportedSchemaVersion = 23;

    private static readonly Version SupportedPackage = new(1, 21);

    public static FastPathDecision Probe(JobStorage storage)
    {
        if (storage.GetType() != typeof(PostgreSqlStorage))
        {
            return Generic($"the Hangfire storage is {storage.GetType().FullName}, not Hangfire.PostgreSql's PostgreSqlStorage");
        }

        var pg = (PostgreSqlStorage)storage;
        var package = typeof(PostgreSqlStorage).Assembly.GetName().Version ?? new Version();
        if (package.Major != SupportedPackage.Major || package.Minor != SupportedPackage.Minor)
        {
            return Unsupported($"Hangfire.PostgreSql {package} is not a version it supports ({SupportedPackage}.x)");
        }

        var providers = pg.QueueProviders.ToList();
        if (providers is not [PostgreSqlJobQueueProvider provider] || provider.GetType() != typeof(PostgreSqlJobQueueProvider))
        {
            return Unsupported("the storage has a queue provider other than Hangfire.PostgreSql's own");
        }

        if (StorageInternals.Current is not { } internals)
        {
            return Unsupported($"Hangfire.PostgreSql {package} does not have the internals it relies on");
        }

        var options = provider.Options;
        var connection = internals.Open(pg);
        try
        {
            var advice = LongPollingAdvice.For(options, connection.ConnectionString);
            var schema = ReadSchema(connection, options.SchemaName);
            if (schema is null)
            {
                return Unsupported($"the database has no Hangfire schema \"{options.SchemaName}\"") with { Advice = advice };
            }

            if (schema.Value.Version != SupportedSchemaVersion)
            {
                return Unsupported(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the Hangfire schema \"{options.SchemaName}\" is at version {schema.Value.Version}, and it supports {SupportedSchemaVersion}")) with { Advice = advice };
            }

            var statements = new ChunkStatements(options.SchemaName, schema.Value.JobSequence, schema.Value.StateSequence);
            return new FastPathDecision(
                new PostgreSqlTarget(pg, internals, statements, options.SchemaName, options.EnableLongPolling),
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"the PostgreSQL fast path (Hangfire.PostgreSql {package}, schema \"{options.SchemaName}\" at version {SupportedSchemaVersion})"))
            {
                Advice = advice,
            };
        }
        finally
        {
            internals.Release(pg, connection);
        }
    }

    private static (int Version, string JobSequence, string StateSequence)? ReadSchema(NpgsqlConnection connection, string schemaName)
    {
        var s = "\"" + schemaName.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        using var command = new NpgsqlCommand(
            $"""
            SELECT (SELECT max("version") FROM {s}."schema"),
                   pg_get_serial_sequence($1, 'id'),
                   pg_get_serial_sequence($2, 'id')
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = s + ".\"job\"" });
        command.Parameters.Add(new NpgsqlParameter { Value = s + ".\"state\"" });
        try
        {
            using var reader = command.ExecuteReader();
            reader.Read();
            return reader.IsDBNull(0) || reader.IsDBNull(1) || reader.IsDBNull(2)
                ? null
                : (Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            return null;
        }
    }

    private static FastPathDecision Generic(string reason) => new(null, "the generic Hangfire path, because " + reason);

    // A PostgreSQL storage the fast path was asked for and cannot serve: dispatch still works, but many times slower.
    private static FastPathDecision Unsupported(string reason) => Generic(reason) with
    {
        Declined = $"FanOut's PostgreSQL fast path (UsePostgreSqlDispatch) is off: {reason}. Dispatch takes the generic Hangfire path, " +
            $"about 30 times slower. This version supports Hangfire.PostgreSql {SupportedPackage}.x with its own queue provider and schema version {SupportedSchemaVersion}.",
    };
}
