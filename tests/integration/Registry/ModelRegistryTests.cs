using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Scoring;

namespace StreamDetect.Integration.Tests.Registry;

/// <summary>The model registry on a real store: SQLite, and PostgreSQL when STREAMDETECT_PG is set.</summary>
public sealed class ModelRegistryTests(RegistryModels models) : IClassFixture<RegistryModels>
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void A_registered_detector_reads_back_whole_and_loads_as_the_same_version(string kind)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        using var store = new RegistryStore(kind);
        using var detector = QuickModel.Train("zscore", users: 150, days: 2, seed: 8);
        var detail = new OriginDetail(1234, DateTimeOffset.Parse("2026-11-01T00:00:00Z"), DateTimeOffset.Parse("2026-11-03T00:00:00Z"), 40, "a test");
        RecordedGate[] gates = [new("anchor-loss", 0.125, 0.2, true), new("canary-recall", 0.5, 0.9, false)];

        var registry = ModelRegistry.Open(store.Settings);
        var (version, added) = registry.Register(detector, new VersionRegistration(ModelOrigin.Trained, detail, Gates: gates));

        Assert.True(added);
        var read = ModelRegistry.Open(store.Settings).Require(detector.Version);
        Assert.Equivalent(version, read, strict: true);
        Assert.Equal(("zscore", ModelStatus.Candidate, ModelOrigin.Trained, (string?)null), (read.Name, read.Status, read.Origin, read.ParentId));
        Assert.Equal(detail, read.Detail);
        Assert.Equal(gates, read.Gates);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - read.Created).TotalMinutes) < 5);
        byte[] bytes = registry.ModelBytes(read.Id);
        Assert.Equal(read.SizeBytes, bytes.LongLength);
        Assert.Equal(detector.Version, ModelRegistry.ContentId(bytes));
        using var loaded = registry.LoadDetector(read.Id, "cpu");
        Assert.Equal((detector.Name, detector.Version), (loaded.Name, loaded.Version));
        var history = Assert.Single(registry.History(read.Id));
        Assert.Equal((LifecycleEvent.Registered, (ModelStatus?)null, ModelStatus.Candidate), (history.Event, history.From, history.To));
        Assert.Null(registry.Champion());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void Registering_a_version_twice_keeps_one_row_and_one_history_entry(string kind)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        using var store = new RegistryStore(kind);
        var registry = ModelRegistry.Open(store.Settings);
        var first = registry.Register(models.Files[0], VersionRegistration.Trained(OriginDetail.None));
        registry.Promote(first.Version.Id, "first");

        // Opening again creates nothing twice; registering the same bytes again changes nothing, status included.
        var again = ModelRegistry.Open(store.Settings).Register(models.Files[0], VersionRegistration.Trained(new OriginDetail(Source: "another run")));

        Assert.True(first.Added);
        Assert.False(again.Added);
        Assert.Equal(models.Ids[0], again.Version.Id);
        Assert.Equal(ModelStatus.Champion, again.Version.Status);
        Assert.Equal(OriginDetail.None, again.Version.Detail);
        Assert.Single(registry.List());
        Assert.Equal(2, registry.History().Count);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void Promotions_retire_the_champion_and_rollbacks_walk_back_through_them(string kind)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        using var store = new RegistryStore(kind);
        var registry = ModelRegistry.Open(store.Settings);
        var (a, b, c) = (models.Ids[0], models.Ids[1], models.Ids[2]);
        registry.Register(models.Files[0], VersionRegistration.Trained(OriginDetail.None));
        registry.Register(models.Files[1], new VersionRegistration(ModelOrigin.FineTuned, new OriginDetail(Steps: 10), ParentId: a));
        registry.Register(models.Files[2], new VersionRegistration(ModelOrigin.FineTuned, new OriginDetail(Steps: 10), ParentId: b));

        Assert.True(registry.Promote(a, "first"));
        Assert.True(registry.MarkShadow(b, "gates passed"));
        registry.AddGates(b, [new RecordedGate("shadow-alert-rate", 0.004, 0.0075, true)]);
        Assert.True(registry.Promote(b, "shadow window passed"));
        Assert.False(registry.Promote(b, "again"));
        Assert.True(registry.Promote(c, "by hand"));
        Assert.Equal((c, ModelStatus.Retired, ModelStatus.Retired), (registry.Champion()!.Id, registry.Require(a).Status, registry.Require(b).Status));

        Assert.Equal(b, registry.Rollback("alert rate above the band").Id);
        Assert.Equal((ModelStatus.Rejected, ModelStatus.Champion), (registry.Require(c).Status, registry.Require(b).Status));
        Assert.Equal(a, registry.Rollback("still too many alerts").Id);
        Assert.Equal((ModelStatus.Champion, ModelStatus.Rejected), (registry.Require(a).Status, registry.Require(b).Status));
        var first = Assert.Throws<UserInputException>(() => registry.Rollback("once more"));
        Assert.Contains($"'{a}' is the first champion", first.Message);

        Assert.Equal(b, registry.Require(c).ParentId);
        Assert.Equal([new RecordedGate("shadow-alert-rate", 0.004, 0.0075, true)], registry.Require(b).Gates);
        Assert.Equal(
            [
                (a, LifecycleEvent.Registered), (b, LifecycleEvent.Registered), (c, LifecycleEvent.Registered),
                (a, LifecycleEvent.Promoted), (b, LifecycleEvent.Shadow), (a, LifecycleEvent.Retired), (b, LifecycleEvent.Promoted),
                (b, LifecycleEvent.Retired), (c, LifecycleEvent.Promoted),
                (c, LifecycleEvent.RolledBack), (b, LifecycleEvent.Restored),
                (b, LifecycleEvent.RolledBack), (a, LifecycleEvent.Restored),
            ],
            registry.History().Select(e => (e.VersionId, e.Event)).ToList());
        var restored = registry.History(b).Single(e => e.Event == LifecycleEvent.Restored);
        Assert.Equal((ModelStatus.Retired, ModelStatus.Champion, c, "alert rate above the band"), (restored.From!.Value, restored.To, restored.PreviousChampion, restored.Reason));
        var sequences = registry.History().Select(e => e.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
        // Every status is the last lifecycle row's, and one version is champion.
        foreach (var version in registry.List())
            Assert.Equal(registry.History(version.Id)[^1].To, version.Status);
        Assert.Single(registry.List(), v => v.Status == ModelStatus.Champion);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void Statuses_move_only_the_way_the_lifecycle_allows_and_unknown_ids_are_named(string kind)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        using var store = new RegistryStore(kind);
        var registry = ModelRegistry.Open(store.Settings);
        var (a, b) = (models.Ids[0], models.Ids[1]);
        registry.Register(models.Files[0], VersionRegistration.Trained(OriginDetail.None));
        registry.Register(models.Files[1], VersionRegistration.Trained(OriginDetail.None));

        Assert.True(registry.PromoteIfNoChampion(a, "first"));
        Assert.False(registry.PromoteIfNoChampion(b, "first"));
        Assert.True(registry.Reject(b, "canary recall below the bound"));
        Assert.False(registry.Reject(b, "again"));

        Assert.Contains("only a candidate goes to shadow", Assert.Throws<UserInputException>(() => registry.MarkShadow(b, "x")).Message);
        Assert.Contains("a champion is rolled back", Assert.Throws<UserInputException>(() => registry.Reject(a, "x")).Message);
        Assert.Contains("model version 'feedc0de' is not in the registry", Assert.Throws<UserInputException>(() => registry.Promote("feedc0de", "x")).Message);
        Assert.Null(registry.Get("feedc0de"));
        Assert.Contains("its parent 'feedc0de' is not in the registry", Assert.Throws<UserInputException>(() =>
            registry.Register(models.Files[2], new VersionRegistration(ModelOrigin.FineTuned, OriginDetail.None, ParentId: "feedc0de"))).Message);
        Assert.Equal(2, registry.List().Count);
        Assert.Equal(a, registry.Champion()!.Id);
    }

    [Fact]
    public void A_fresh_state_reset_of_the_data_directory_keeps_the_registry_and_drops_the_rest()
    {
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        registry.Register(models.Files[0], VersionRegistration.Trained(OriginDetail.None));
        registry.Promote(models.Ids[0], "first");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.Settings.SqlitePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE journal (x BLOB); INSERT INTO journal VALUES (zeroblob(200000));";
            command.ExecuteNonQuery();
        }
        DataDirectoryMarker.EnsureCompatible(store.DataDirectory, 8, "sqlite");

        long removed = StoreReset.Reset(store.Settings);

        Assert.True(removed > 150_000, $"{removed} bytes removed");
        Assert.Null(DataDirectoryMarker.ReadPartitions(store.DataDirectory));
        Assert.Equal(models.Ids[0], ModelRegistry.Open(store.Settings).Champion()!.Id);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.Settings.SqlitePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'journal'";
            Assert.Equal(0L, command.ExecuteScalar());
        }
    }
}
