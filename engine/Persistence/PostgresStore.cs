using System.Text.RegularExpressions;
using Npgsql;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>The PostgreSQL store: one-time setup before the persistence plugin starts.</summary>
public static partial class PostgresStore
{
    /// <summary>
    /// Creates the schema if it does not exist. The name must be a plain lower-case identifier. A server that
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
                using var command = connection.CreateCommand();
                // An identifier cannot be a parameter; it is validated above and quoted here.
                command.CommandText = $"CREATE SCHEMA IF NOT EXISTS \"{schema}\"";
                command.ExecuteNonQuery();
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
