using Akka.Actor;
using Akka.Persistence;
using Npgsql;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Serialises the creation of the journal and snapshot tables between processes that share a PostgreSQL schema.
/// Akka.Persistence.Sql creates its tables when its plugins start (<c>auto-initialize</c>); several engines doing
/// that at once on an empty schema race in PostgreSQL (<c>CREATE TABLE IF NOT EXISTS</c> fails with 23505 on
/// <c>pg_type_typname_nsp_index</c>) and the loser's journal stops (its node exits 1). This lock is a session-level
/// advisory lock keyed by the schema name, taken before the actor system starts and released once both plugins
/// have answered a first request (<see cref="WaitForPluginsAsync"/>): the first engine creates the tables, the
/// others find them. Held a few milliseconds when the tables exist.
/// </summary>
public sealed class PostgresTableCreationLock : IDisposable
{
    private readonly NpgsqlConnection _connection;

    private PostgresTableCreationLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>Waits for the lock (another engine creating the tables holds it for a moment). A server that cannot be reached is tried again as <see cref="PostgresStore.EnsureSchema"/> does.</summary>
    public static PostgresTableCreationLock Acquire(string connectionString, string schema, StoreRetrySettings retry)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            var connection = new NpgsqlConnection(connectionString);
            try
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = $"SELECT pg_advisory_lock({PostgresStore.TablesLockClass}, hashtext(@schema))";
                command.Parameters.AddWithValue("schema", schema);
                command.ExecuteNonQuery();
                return new PostgresTableCreationLock(connection);
            }
            catch (NpgsqlException e) when (e.IsTransient && clock.Elapsed < retry.GiveUpAfter)
            {
                connection.Dispose();
                Thread.Sleep(retry.Backoff(attempt));
            }
            catch (NpgsqlException e)
            {
                connection.Dispose();
                throw new EnvironmentFailureException(FailedResource.Store,
                    $"{StoreDescription.Of("PostgreSQL", connectionString)}: cannot lock schema '{schema}' to create its tables: {StoreRetry.OneLine(e)} (check streamdetect.store.postgres.connection-string)", e);
            }
        }
    }

    /// <summary>
    /// Starts the default journal and snapshot store and waits until each has answered a read: both plugins stash
    /// requests until their tables are made, so an answer means the tables exist. A plugin that failed to make
    /// them never answers: after <paramref name="timeout"/> the start fails naming the store.
    /// </summary>
    public static async Task WaitForPluginsAsync(ActorSystem system, string store, TimeSpan timeout, CancellationToken cancellation)
    {
        var persistence = Akka.Persistence.Persistence.Instance.Apply(system);
        const string probe = "streamdetect-startup-probe";
        try
        {
            var journal = persistence.JournalFor(null).Ask<object>(replyTo => new ReplayMessages(1, 0, 0, probe, replyTo), timeout, cancellation);
            var snapshots = persistence.SnapshotStoreFor(null).Ask<object>(new LoadSnapshot(probe, SnapshotSelectionCriteria.Latest, long.MaxValue), timeout, cancellation);
            await Task.WhenAll(journal, snapshots);
            if (journal.Result is ReplayMessagesFailure journalFailure) throw journalFailure.Cause;
            if (snapshots.Result is LoadSnapshotFailed snapshotFailure) throw snapshotFailure.Cause;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            throw new EnvironmentFailureException(FailedResource.Store,
                $"{store}: the journal or snapshot store did not start within {timeout.TotalSeconds:0} s: {StoreRetry.OneLine(e)}", e);
        }
    }

    public void Dispose()
    {
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT pg_advisory_unlock_all()";
            command.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
            // closing the session releases the lock anyway
        }
        _connection.Dispose();
    }
}
