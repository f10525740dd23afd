using System.Data.Common;
using System.Diagnostics;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Registry;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Plans;

/// <summary>
/// The plans decided for each order-key boundary, in the engine's store beside the model registry (table
/// <c>model_plans</c>, one row per boundary): the source of truth every node resolves a boundary from (issue 11, a
/// plan applies at the same boundary on every node). A boundary is decided once: the first writer's row stays
/// (<see cref="Decide"/> returns the row that is stored, which may be another node's), so two deciders (a singleton
/// hand-over, a follower that gave up waiting) can never make nodes score one boundary with different plans.
/// The rows belong with the per-user state: a fresh state (<c>streamdetect.run.fresh-state</c>) drops the table with
/// the journal (the registry's tables are kept), and a resumed run follows the plans stored for the boundaries it replays.
/// Transient store failures are retried with <c>streamdetect.store.retry</c>; past give-up-after one
/// <see cref="EnvironmentFailureException"/> line names the store (exit code 3).
/// </summary>
public sealed class ModelPlanStore
{
    private readonly RegistrySql _sql;
    private readonly StoreRetrySettings _retry;
    private readonly string _table;

    private ModelPlanStore(RegistrySql sql, StoreRetrySettings retry, string table)
    {
        _sql = sql;
        _retry = retry;
        _table = table;
    }

    /// <summary>Opens the plans of <paramref name="store"/> (sqlite or postgres), creating the registry's tables and this one when missing.</summary>
    /// <exception cref="UserInputException">A memory store (it keeps no registry, so no node could load a plan's versions).</exception>
    public static ModelPlanStore Open(StoreSettings store)
    {
        ModelRegistry.Open(store); // the schema (PostgreSQL) and the versions the plans name
        var sql = RegistrySql.For(store);
        string table = store.Kind == "postgres" ? $"\"{store.PostgresSchema}\".model_plans" : "model_plans";
        var plans = new ModelPlanStore(sql, store.Retry, table);
        plans.Run("create the plans table", connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE IF NOT EXISTS {table} (
                  boundary BIGINT PRIMARY KEY,
                  champion TEXT NOT NULL,
                  shadow TEXT NULL,
                  reason TEXT NOT NULL,
                  decided_by TEXT NOT NULL,
                  at TEXT NOT NULL)
                """;
            command.ExecuteNonQuery();
            return true;
        });
        return plans;
    }

    /// <summary>The store in words (for messages).</summary>
    public string Store => _sql.Description;

    /// <summary>Writes <paramref name="plan"/> for its boundary unless one is stored already; returns the stored one (the first writer's).</summary>
    public PlanRecord Decide(PlanRecord plan) => Run("write a boundary's plan", connection =>
    {
        using (var insert = Command(connection,
                   $"INSERT INTO {_table} (boundary, champion, shadow, reason, decided_by, at) VALUES (@b, @c, @s, @r, @d, @at) ON CONFLICT (boundary) DO NOTHING",
                   ("@b", plan.Boundary), ("@c", plan.Champion), ("@s", plan.Shadow), ("@r", plan.Reason), ("@d", plan.DecidedBy),
                   ("@at", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture))))
            insert.ExecuteNonQuery();
        return Select(connection, "WHERE boundary = @b", ("@b", plan.Boundary)).Single();
    });

    /// <summary>The plan stored for a boundary, or null when none is decided yet.</summary>
    public PlanRecord? At(long boundary) =>
        Run("read a boundary's plan", connection => Select(connection, "WHERE boundary = @b", ("@b", boundary)).SingleOrDefault());

    /// <summary>Every stored plan, in boundary order.</summary>
    public IReadOnlyList<PlanRecord> All() => Run("read the plans", connection => Select(connection, ""));

    private List<PlanRecord> Select(DbConnection connection, string where, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, $"SELECT boundary, champion, shadow, reason, decided_by FROM {_table} {where} ORDER BY boundary", parameters);
        using var reader = command.ExecuteReader();
        var plans = new List<PlanRecord>();
        while (reader.Read())
            plans.Add(new PlanRecord(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        return plans;
    }

    private static DbCommand Command(DbConnection connection, string text, params (string Name, object? Value)[] parameters) =>
        RegistrySql.Command(connection, null, text, parameters);

    /// <summary>One statement group on a fresh connection; every one here is idempotent, so a transient failure is retried.</summary>
    private T Run<T>(string what, Func<DbConnection, T> body)
    {
        var clock = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var connection = _sql.Open();
                return body(connection);
            }
            catch (Exception e) when (e is DbException or TimeoutException or IOException or System.Net.Sockets.SocketException)
            {
                bool transient = RegistrySql.IsTransient(e);
                if (transient && clock.Elapsed < _retry.GiveUpAfter)
                {
                    _sql.ClearPool();
                    Thread.Sleep(_retry.Backoff(attempt));
                    continue;
                }
                string tried = transient ? $" for {clock.Elapsed.TotalSeconds:0} s ({attempt} attempts; streamdetect.store.retry.give-up-after)" : "";
                throw new EnvironmentFailureException(FailedResource.Store,
                    $"{_sql.Description}: model plans: {what} failed{tried}: {StoreRetry.OneLine(e)} (check {_sql.Setting})", e);
            }
        }
    }
}
