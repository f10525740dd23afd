using System.Text.RegularExpressions;
using Npgsql;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>The PostgreSQL store: one-time setup before the persistence plugin starts.</summary>
public static partial class PostgresStore
{
    /// <summary>Advisory-lock class of <c>CREATE SCHEMA</c> (the lock's second key is the schema name's hash).</summary>
    internal const int SchemaLockClass = 0x53440001;

    /// <summary>Advisory-lock class of the journal and snapshot tables' creation (<see cref="PostgresTableCreationLock"/>).</summary>
    internal const int TablesLockClass = 0x53440002;

    /// <summary>
    /// Creates the schema if it does not exist. Several processes doing it at once on a new schema would race in
    /// PostgreSQL (<c>IF NOT EXISTS</c> does not stop a unique violation on <c>pg_namespace</c>), so it runs under a
    /// transaction-level advisory lock keyed by the schema name. The name must be a plain lower-case identifier. A server that
    /// cannot be reached (not up yet, restarting) is tried again with backoff for <paramref name="retry"/>'s
    /// give-up-after; a refusal that waiting cannot cure (wrong password, no such database) fails at once.
    /// Either way the failure names the server and the cause (exit code 3).
    /// </summary>
    public static void EnsureSchema(string connectionString, string schema, StoreRetrySettings? retry = null)
    {
        if (!PlainIdentifier().IsMatch(schema))
            throw new Stages.Configuration.SettingsException("streamdetect.store.postgres.schema",
                $"'{schema}' is not a plain identifier (lower-case letters, digits, underscore; not starting with a digit)");
        retry ??= StoreRetrySettings.Default;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var connection = new NpgsqlConnection(connectionString);
                connection.Open();
                using var transaction = connection.BeginTransaction();
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                // An identifier cannot be a parameter; it is validated above and quoted here.
                command.CommandText = $"SELECT pg_advisory_xact_lock({SchemaLockClass}, hashtext(@schema)); CREATE SCHEMA IF NOT EXISTS \"{schema}\"";
                command.Parameters.AddWithValue("schema", schema);
                command.ExecuteNonQuery();
                transaction.Commit();
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && clock.Elapsed < retry.GiveUpAfter)
            {
                Thread.Sleep(retry.Backoff(attempt));
            }
            catch (NpgsqlException e)
            {
                throw new EnvironmentFailureException(FailedResource.Store,
                    $"{StoreDescription.Of("PostgreSQL", connectionString)}: cannot prepare schema '{schema}'{(e.IsTransient ? $" (tried for {clock.Elapsed.TotalSeconds:0} s)" : "")}: {StoreRetry.OneLine(e)} (check streamdetect.store.postgres.connection-string)", e);
            }
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();
}
