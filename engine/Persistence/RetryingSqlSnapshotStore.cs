using Akka.Configuration;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Snapshot;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Akka.Persistence.Sql's snapshot store, with saves that survive a store outage: a save is retried with
/// backoff (<see cref="StoreRetrySettings"/>) and fails, after <c>give-up-after</c>, with one line naming
/// the store and the cause. A save writes the row of its (persistence id, sequence number) whole, so
/// saving again after an attempt that may have been committed is harmless. A snapshot that fails for good
/// is not fatal: the partition keeps its journal rows and snapshots again later.
/// </summary>
public sealed class RetryingSqlSnapshotStore : SqlSnapshotStore
{
    private readonly StoreRetrySettings _retry;
    private readonly string _store;
    private readonly Action _clearPool;
    private readonly ILoggingAdapter _log;

    public RetryingSqlSnapshotStore(Config snapshotConfig) : base(snapshotConfig)
    {
        _retry = StoreRetrySettings.FromPlugin(snapshotConfig);
        string provider = snapshotConfig.GetString("provider-name", ""), connectionString = snapshotConfig.GetString("connection-string", "");
        _store = StoreDescription.Of(provider, connectionString);
        _clearPool = () => StoreConnectionPool.Clear(provider, connectionString);
        _log = Context.GetLogger();
    }

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken) =>
        StoreRetry.RunAsync(_retry, _store, "snapshot save", _log, () => base.SaveAsync(metadata, snapshot, cancellationToken), cancellationToken, _clearPool);

    /// <summary>A partition's recovery reads its snapshot first: retried like a save, so a recovery rides out an outage too.</summary>
    protected override Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) =>
        StoreRetry.RunAsync(_retry, _store, "snapshot load", _log, () => base.LoadAsync(persistenceId, criteria, cancellationToken), cancellationToken, _clearPool);

    protected override Task DeleteAsync(SnapshotMetadata metadata, CancellationToken cancellationToken) =>
        StoreRetry.RunAsync(_retry, _store, "snapshot delete", _log, () => base.DeleteAsync(metadata, cancellationToken), cancellationToken, _clearPool);

    protected override Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) =>
        StoreRetry.RunAsync(_retry, _store, "snapshot delete", _log, () => base.DeleteAsync(persistenceId, criteria, cancellationToken), cancellationToken, _clearPool);
}
