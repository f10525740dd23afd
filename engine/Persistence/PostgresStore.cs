using System.Text.RegularExpressions;
using Npgsql;

namespace StreamDetect.Engine.Persistence;

/// <summary>The PostgreSQL store: one-time setup before the persistence plugin starts.</summary>
public static partial class PostgresStore
{
    /// <summary>Creates the schema if it does not exist. The name must be a plain lower-case identifier.</summary>
    public static void EnsureSchema(string connectionString, string schema)
    {
        if (!PlainIdentifier().IsMatch(schema))
            throw new Stages.Configuration.SettingsException("streamdetect.store.postgres.schema",
                $"'{schema}' is not a plain identifier (lower-case letters, digits, underscore; not starting with a digit)");
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            // An identifier cannot be a parameter; it is validated above and quoted here.
            command.CommandText = $"CREATE SCHEMA IF NOT EXISTS \"{schema}\"";
            command.ExecuteNonQuery();
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"PostgreSQL store: cannot prepare schema '{schema}': {e.Message}", e);
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();
}
