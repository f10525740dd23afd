using System.Data.Common;
using System.Diagnostics;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Persistence;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Registry;

/// <summary>
/// The model registry, in the engine's store (the SQLite database of the data directory, or PostgreSQL with
/// the postgres overlay, with the journal's connection settings). Two tables:
/// <list type="bullet">
/// <item><c>model_versions</c>: one row per version, keyed by its content hash (<see cref="IAnomalyDetector.Version"/>),
/// with the model file's bytes, its parent, origin, gate results and status;</item>
/// <item><c>model_lifecycle</c>: append-only, one row per status change, written in the same transaction as the
/// change, so a process killed at any point leaves either the whole change or none of it.</item>
/// </list>
/// The champion is the last version promoted (or restored by a rollback); a promotion retires the champion
/// it replaces, and a rollback rejects the champion and restores the one its promotion replaced. Writers take
/// the registry for themselves for one short transaction; readers never wait. Transient store failures are
/// retried with the journal's backoff (<c>streamdetect.store.retry</c>); past give-up-after, or on a failure
/// waiting cannot cure, one <see cref="EnvironmentFailureException"/> line names the store and its setting (exit code 3).
/// </summary>
public sealed class ModelRegistry
{
    private const string Columns = "id, name, parent_id, origin, origin_detail, gates, status, created, size_bytes";

    private readonly RegistrySql _sql;
    private readonly StoreRetrySettings _retry;

    private ModelRegistry(RegistrySql sql, StoreRetrySettings retry)
    {
        _sql = sql;
        _retry = retry;
    }

    /// <summary>The store in words (for messages): the SQLite file, or PostgreSQL's host, port and database.</summary>
    public string Store => _sql.Description;

    /// <summary>
    /// Opens the registry of <paramref name="store"/>, creating its tables when missing (the SQLite file and
    /// the PostgreSQL schema too, as the journal does). A memory store has no registry (<see cref="UserInputException"/>).
    /// </summary>
    public static ModelRegistry Open(StoreSettings store)
    {
        var sql = RegistrySql.For(store);
        if (store.Kind == "sqlite") SqliteStore.Prepare(store.SqlitePath);
        else PostgresStore.EnsureSchema(store.PostgresConnectionString, store.PostgresSchema, store.Retry);
        var registry = new ModelRegistry(sql, store.Retry);
        // Engines starting at once on a new PostgreSQL schema make the tables one at a time (CREATE TABLE IF NOT EXISTS
        // races there: 23505 on pg_type), as for the journal.
        using (store.Kind == "postgres" ? PostgresTableCreationLock.Acquire(store.PostgresConnectionString, store.PostgresSchema, store.Retry) : null)
        {
            registry.Run("create the registry tables", replayable: true, Access.CreateTables, session =>
            {
                foreach (string statement in sql.CreateTables()) session.Execute(statement);
                return true;
            }, pauseAs: null);
        }
        return registry;
    }

    /// <summary>The content id of a model file's bytes: the <see cref="IAnomalyDetector.Version"/> of the detector they hold.</summary>
    /// <exception cref="ModelFileException">The bytes are not a whole model file.</exception>
    public static string ContentId(byte[] modelFile, string origin = "model bytes")
    {
        var file = ModelFileReader.Parse(modelFile, origin);
        var writer = new ModelFileWriter(file.DetectorName, file.FeatureSchemaVersion);
        foreach (string section in file.SectionNames) writer.Add(section, file.Section(section));
        return writer.ContentHash();
    }

    /// <summary>Registers a detector (its model file) as a candidate; a version already registered is left as it is.</summary>
    /// <returns>The version as stored, and whether this call added it.</returns>
    public (ModelVersion Version, bool Added) Register(IAnomalyDetector detector, VersionRegistration registration)
    {
        string file = Path.Combine(Path.GetTempPath(), $"streamdetect-register-{Environment.ProcessId}-{Guid.NewGuid():N}.sdm");
        byte[] bytes;
        try
        {
            detector.Save(file);
            bytes = File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
        string id = ContentId(bytes, $"{detector.Name}@{detector.Version}");
        if (id != detector.Version)
            throw new InvalidOperationException($"{detector.Name}@{detector.Version}: its saved file hashes to {id}; a version must be the hash of its content");
        return Register(bytes, registration);
    }

    /// <summary>Registers a model file's bytes as a candidate (idempotent on the content id).</summary>
    /// <exception cref="ModelFileException">The bytes are not a whole model file.</exception>
    /// <exception cref="UserInputException">The parent is not registered, or the origin and parent disagree.</exception>
    public (ModelVersion Version, bool Added) Register(byte[] modelFile, VersionRegistration registration)
    {
        string id = ContentId(modelFile);
        string name = ModelFileReader.Parse(modelFile, id).DetectorName;
        if (registration.Origin == ModelOrigin.FineTuned && registration.ParentId is null)
            throw new UserInputException($"model version '{id}': a fine-tuned version needs its parent version");
        if (registration.Origin == ModelOrigin.Trained && registration.ParentId is not null)
            throw new UserInputException($"model version '{id}': a trained version has no parent (given '{registration.ParentId}')");
        bool added = Write("register a version", replayable: true, session =>
        {
            if (registration.ParentId is { } parent && session.Status(parent) is null)
                throw new UserInputException($"model version '{id}': its parent '{parent}' is not in the registry ({Store})");
            var now = DateTimeOffset.UtcNow;
            int inserted = session.Execute(
                $"INSERT INTO {_sql.Versions} ({Columns}, model) VALUES (@id, @name, @parent, @origin, @detail, @gates, @status, @created, @size, @model) ON CONFLICT (id) DO NOTHING",
                ("@id", id), ("@name", name), ("@parent", registration.ParentId), ("@origin", RegistryNames.Of(registration.Origin)),
                ("@detail", RegistryJson.Detail(registration.Detail)), ("@gates", RegistryJson.Gates(registration.Gates ?? [])),
                ("@status", RegistryNames.Of(ModelStatus.Candidate)), ("@created", RegistryJson.Time(now)), ("@size", modelFile.LongLength), ("@model", modelFile));
            if (inserted == 0) return false;
            session.Append(id, LifecycleEvent.Registered, null, ModelStatus.Candidate, registration.Reason ?? RegistryNames.Of(registration.Origin), null, now);
            return true;
        }, pauseAs: "register");
        return (Require(id), added);
    }

    /// <summary>A version, or null when the id is not registered.</summary>
    public ModelVersion? Get(string id) =>
        Read("read a version", session => session.Versions($"SELECT {Columns} FROM {_sql.Versions} WHERE id = @id", ("@id", id)).SingleOrDefault());

    /// <summary>A version; an unknown id is a <see cref="UserInputException"/> naming it.</summary>
    public ModelVersion Require(string id) => Get(id) ?? throw Unknown(id);

    /// <summary>Every version, oldest first.</summary>
    public IReadOnlyList<ModelVersion> List() =>
        Read("list the versions", session => session.Versions($"SELECT {Columns} FROM {_sql.Versions} ORDER BY created, id"));

    /// <summary>The champion (the last version promoted or restored), or null when none was ever promoted.</summary>
    public ModelVersion? Champion() => Read("read the champion", session => session.ChampionId() is { } id ? session.Versions(
        $"SELECT {Columns} FROM {_sql.Versions} WHERE id = @id", ("@id", id)).Single() : null);

    /// <summary>The lifecycle rows, oldest first: of one version, or of all when <paramref name="id"/> is null.</summary>
    public IReadOnlyList<LifecycleEntry> History(string? id = null) => Read("read the lifecycle", session => session.Entries(id));

    /// <summary>The stored model file of a version.</summary>
    public byte[] ModelBytes(string id) => Read("read a model", session =>
    {
        using var command = session.Command($"SELECT model FROM {_sql.Versions} WHERE id = @id", ("@id", id));
        return command.ExecuteScalar() as byte[] ?? throw Unknown(id);
    });

    /// <summary>Builds the detector of a version from its stored bytes.</summary>
    /// <param name="device">cpu, cuda, cuda:N or auto.</param>
    /// <exception cref="ModelFileException">The stored model cannot be loaded by this build (another feature schema, an unknown detector).</exception>
    public IAnomalyDetector LoadDetector(string id, string device)
    {
        byte[] bytes = ModelBytes(id);
        string file = Path.Combine(Path.GetTempPath(), $"streamdetect-{id}-{Environment.ProcessId}-{Guid.NewGuid():N}.sdm");
        try
        {
            File.WriteAllBytes(file, bytes);
            return DetectorFile.Load(file, device);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Appends gate results to a version's (e.g. the shadow window's alert-rate band after the offline gates it
    /// was registered with). Not a status change: no lifecycle row.
    /// </summary>
    public void AddGates(string id, IReadOnlyList<RecordedGate> gates) => Write("record gate results", replayable: false, session =>
    {
        using var read = session.Command($"SELECT gates FROM {_sql.Versions} WHERE id = @id", ("@id", id));
        string current = read.ExecuteScalar() as string ?? throw Unknown(id);
        session.Execute($"UPDATE {_sql.Versions} SET gates = @gates WHERE id = @id",
            ("@gates", RegistryJson.Gates([.. RegistryJson.ParseGates(current), .. gates])), ("@id", id));
        return true;
    }, pauseAs: "gates");

    /// <summary>A candidate starts scoring in shadow. Returns false when it was in shadow already.</summary>
    public bool MarkShadow(string id, string reason) => Write("mark a version shadow", replayable: true, session =>
    {
        var status = session.Status(id) ?? throw Unknown(id);
        if (status == ModelStatus.Shadow) return false;
        if (status != ModelStatus.Candidate)
            throw new UserInputException($"model version '{id}' is {RegistryNames.Of(status)}; only a candidate goes to shadow");
        session.Change(id, LifecycleEvent.Shadow, status, ModelStatus.Shadow, reason, null);
        return true;
    }, pauseAs: "shadow");

    /// <summary>A candidate or shadow version is refused. Returns false when it was rejected already.</summary>
    public bool Reject(string id, string reason) => Write("reject a version", replayable: true, session =>
    {
        var status = session.Status(id) ?? throw Unknown(id);
        if (status == ModelStatus.Rejected) return false;
        if (status is not (ModelStatus.Candidate or ModelStatus.Shadow))
            throw new UserInputException($"model version '{id}' is {RegistryNames.Of(status)}; only a candidate or a shadow version is rejected (a champion is rolled back)");
        session.Change(id, LifecycleEvent.Rejected, status, ModelStatus.Rejected, reason, null);
        return true;
    }, pauseAs: "reject");

    /// <summary>
    /// Makes a version the champion, retiring the one it replaces, in one transaction. Returns false when it
    /// was the champion already.
    /// </summary>
    public bool Promote(string id, string reason) => Write("promote a version", replayable: true, session => PromoteIn(session, id, reason), pauseAs: "promote");

    /// <summary>Promotes a version only when the registry has no champion yet (atomically). Returns whether it did.</summary>
    public bool PromoteIfNoChampion(string id, string reason) => Write("promote the first champion", replayable: true,
        session => session.ChampionId() is null && PromoteIn(session, id, reason), pauseAs: "promote");

    /// <summary>
    /// Rolls the champion back: it is rejected and the champion its promotion replaced is restored, in one
    /// transaction. Not retried once its commit was sent (a second rollback would go one version further).
    /// </summary>
    /// <returns>The restored champion.</returns>
    /// <exception cref="UserInputException">There is no champion, it was the first one, or the one before it was rejected since.</exception>
    public ModelVersion Rollback(string reason)
    {
        string restored = Write("roll back the champion", replayable: false, session =>
        {
            string champion = session.ChampionId() ?? throw new UserInputException($"the registry ({Store}) has no champion to roll back");
            string? previous = session.PromotedOver(champion);
            if (previous is null)
                throw new UserInputException($"model version '{champion}' is the first champion of the registry; there is no earlier one to roll back to (promote a version by id)");
            var previousStatus = session.Status(previous)!.Value;
            if (previousStatus == ModelStatus.Rejected)
                throw new UserInputException($"model version '{champion}' replaced '{previous}', which has been rejected since; promote a version by id instead");
            session.Change(champion, LifecycleEvent.RolledBack, ModelStatus.Champion, ModelStatus.Rejected, reason, null);
            session.Change(previous, LifecycleEvent.Restored, previousStatus, ModelStatus.Champion, reason, champion);
            return previous;
        }, pauseAs: "rollback");
        return Require(restored);
    }

    private static bool PromoteIn(Session session, string id, string reason)
    {
        var status = session.Status(id) ?? throw Unknown(id);
        string? champion = session.ChampionId();
        if (champion == id) return false;
        if (champion is not null)
            session.Change(champion, LifecycleEvent.Retired, ModelStatus.Champion, ModelStatus.Retired, $"replaced by {id}", null);
        session.Change(id, LifecycleEvent.Promoted, status, ModelStatus.Champion, reason, champion);
        return true;
    }

    private static UserInputException Unknown(string id) =>
        new($"model version '{id}' is not in the registry (`streamdetect models list` shows the versions)");

    private T Read<T>(string what, Func<Session, T> body) => Run(what, replayable: true, Access.Read, body, pauseAs: null);

    private T Write<T>(string what, bool replayable, Func<Session, T> body, string? pauseAs) => Run(what, replayable, Access.Write, body, pauseAs);

    private enum Access
    {
        Read,
        Write,
        /// <summary>A transaction that does not lock the tables (they may not exist yet).</summary>
        CreateTables,
    }

    /// <summary>
    /// One call on its own connection, retried through transient failures for give-up-after. A write that
    /// is not <paramref name="replayable"/> is not retried once its commit was sent, as the commit may have
    /// happened.
    /// </summary>
    private T Run<T>(string what, bool replayable, Access access, Func<Session, T> body, string? pauseAs)
    {
        var clock = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            bool committing = false;
            try
            {
                using var connection = _sql.Open();
                if (access == Access.Read) return body(new Session(_sql, connection, null));
                using var write = access == Access.Write ? _sql.BeginWrite(connection) : connection.BeginTransaction();
                var result = body(new Session(_sql, connection, write));
                if (pauseAs is not null) RegistryTestPause.BeforeCommit(pauseAs);
                committing = true;
                write.Commit();
                return result;
            }
            catch (Exception e) when (e is DbException or TimeoutException or IOException or System.Net.Sockets.SocketException)
            {
                bool transient = RegistrySql.IsTransient(e);
                if (transient && (replayable || !committing) && clock.Elapsed < _retry.GiveUpAfter)
                {
                    _sql.ClearPool();
                    Thread.Sleep(_retry.Backoff(attempt));
                    continue;
                }
                string tried = transient ? $" for {clock.Elapsed.TotalSeconds:0} s ({attempt} attempts; streamdetect.store.retry.give-up-after)" : "";
                string unknown = committing ? "; whether it was committed is unknown (`streamdetect models list` shows)" : "";
                throw new EnvironmentFailureException(FailedResource.Store,
                    $"{_sql.Description}: model registry: {what} failed{tried}{unknown}: {StoreRetry.OneLine(e)} (check {_sql.Setting})", e);
            }
        }
    }

    /// <summary>One connection (and write transaction) of a registry call, with the statements the calls share.</summary>
    private sealed class Session(RegistrySql sql, DbConnection connection, DbTransaction? transaction)
    {
        public DbCommand Command(string text, params (string Name, object? Value)[] parameters) =>
            RegistrySql.Command(connection, transaction, text, parameters);

        public int Execute(string text, params (string Name, object? Value)[] parameters)
        {
            using var command = Command(text, parameters);
            return command.ExecuteNonQuery();
        }

        public ModelStatus? Status(string id)
        {
            using var command = Command($"SELECT status FROM {sql.Versions} WHERE id = @id", ("@id", id));
            return command.ExecuteScalar() is string status ? RegistryNames.Status(status) : null;
        }

        /// <summary>The champion: the version of the last promotion or restore.</summary>
        public string? ChampionId()
        {
            using var command = Command($"SELECT version_id FROM {sql.Lifecycle} WHERE event IN (@promoted, @restored) ORDER BY seq DESC LIMIT 1",
                ("@promoted", RegistryNames.Of(LifecycleEvent.Promoted)), ("@restored", RegistryNames.Of(LifecycleEvent.Restored)));
            return command.ExecuteScalar() as string;
        }

        /// <summary>The champion that <paramref name="id"/>'s last promotion replaced (what rolling it back restores).</summary>
        public string? PromotedOver(string id)
        {
            using var command = Command($"SELECT previous_champion FROM {sql.Lifecycle} WHERE version_id = @id AND event = @promoted ORDER BY seq DESC LIMIT 1",
                ("@id", id), ("@promoted", RegistryNames.Of(LifecycleEvent.Promoted)));
            return command.ExecuteScalar() as string;
        }

        /// <summary>A status change and its lifecycle row (in the caller's transaction).</summary>
        public void Change(string id, LifecycleEvent change, ModelStatus from, ModelStatus to, string reason, string? previousChampion)
        {
            Execute($"UPDATE {sql.Versions} SET status = @status WHERE id = @id", ("@status", RegistryNames.Of(to)), ("@id", id));
            Append(id, change, from, to, reason, previousChampion, DateTimeOffset.UtcNow);
        }

        public void Append(string id, LifecycleEvent change, ModelStatus? from, ModelStatus to, string reason, string? previousChampion, DateTimeOffset at) =>
            Execute($"INSERT INTO {sql.Lifecycle} (version_id, event, from_status, to_status, reason, previous_champion, at) VALUES (@id, @event, @from, @to, @reason, @previous, @at)",
                ("@id", id), ("@event", RegistryNames.Of(change)), ("@from", from is { } f ? RegistryNames.Of(f) : null), ("@to", RegistryNames.Of(to)),
                ("@reason", reason), ("@previous", previousChampion), ("@at", RegistryJson.Time(at)));

        public List<ModelVersion> Versions(string text, params (string Name, object? Value)[] parameters)
        {
            using var command = Command(text, parameters);
            using var reader = command.ExecuteReader();
            var versions = new List<ModelVersion>();
            while (reader.Read())
            {
                versions.Add(new ModelVersion(
                    reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    RegistryNames.Origin(reader.GetString(3)), RegistryJson.ParseDetail(reader.GetString(4)), RegistryJson.ParseGates(reader.GetString(5)),
                    RegistryNames.Status(reader.GetString(6)), RegistryJson.ParseTime(reader.GetString(7)), reader.GetInt64(8)));
            }
            return versions;
        }

        public List<LifecycleEntry> Entries(string? id)
        {
            string where = id is null ? "" : "WHERE version_id = @id ";
            using var command = Command(
                $"SELECT seq, version_id, event, from_status, to_status, reason, previous_champion, at FROM {sql.Lifecycle} {where}ORDER BY seq",
                id is null ? [] : [("@id", id)]);
            using var reader = command.ExecuteReader();
            var entries = new List<LifecycleEntry>();
            while (reader.Read())
            {
                entries.Add(new LifecycleEntry(
                    reader.GetInt64(0), reader.GetString(1), RegistryNames.Event(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : RegistryNames.Status(reader.GetString(3)), RegistryNames.Status(reader.GetString(4)),
                    reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), RegistryJson.ParseTime(reader.GetString(7))));
            }
            return entries;
        }
    }
}
