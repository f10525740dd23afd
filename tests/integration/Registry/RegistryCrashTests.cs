using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Registry;

/// <summary>
/// `kill -9` of a `models promote` / `models rollback` process stopped inside its transaction (after every row
/// is written, before the commit; the test hook STREAMDETECT_TEST_PAUSE_IN_REGISTRY): the champion is the last
/// committed one and no row of the interrupted change is left, and the store takes the next change as usual.
/// </summary>
public sealed class RegistryCrashTests(RegistryModels models) : IClassFixture<RegistryModels>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_promotion_killed_before_its_commit_leaves_the_last_champion(string kind)
    {
        var (store, registry) = StoreWithTwoVersions(kind, promoted: 1);
        using var _ = store;
        var (a, b) = (models.Ids[0], models.Ids[1]);
        var historyBefore = registry.History();

        await KillInsideTransactionAsync(store, "promote", "models", "promote", b);

        Assert.Equal(a, ModelRegistry.Open(store.Settings).Champion()!.Id);
        Assert.Equal((ModelStatus.Champion, ModelStatus.Candidate), (registry.Require(a).Status, registry.Require(b).Status));
        Assert.Equal(historyBefore, registry.History());

        var (code, stdout, stderr) = await EngineProcess.RunAsync(null, Timeout, "models", "promote", b, "--config", store.Overlay);
        Assert.True(code == 0, stderr);
        Assert.Contains($"promoted zscore@{b} (was candidate) to champion; zscore@{a} is retired", stdout);
        Assert.Equal(b, registry.Champion()!.Id);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_rollback_killed_before_its_commit_leaves_the_champion_it_would_have_rolled_back(string kind)
    {
        var (store, registry) = StoreWithTwoVersions(kind, promoted: 2);
        using var _ = store;
        var (a, b) = (models.Ids[0], models.Ids[1]);
        var historyBefore = registry.History();

        await KillInsideTransactionAsync(store, "rollback", "models", "rollback", "--reason", "test");

        Assert.Equal(b, ModelRegistry.Open(store.Settings).Champion()!.Id);
        Assert.Equal((ModelStatus.Retired, ModelStatus.Champion), (registry.Require(a).Status, registry.Require(b).Status));
        Assert.Equal(historyBefore, registry.History());
        Assert.Equal(a, registry.Rollback("after the crash").Id);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_registration_killed_before_its_commit_leaves_no_version(string kind)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        using var store = new RegistryStore(kind);
        string model = store.File("zscore.sdm");
        await File.WriteAllBytesAsync(model, models.Files[2], TestContext.Current.CancellationToken);
        string traffic = store.File("traffic.jsonl");
        var (code, _, stderr) = await EngineProcess.RunAsync(null, Timeout, "gen", "--users", "100", "--days", "2", "--seed", "3", "--out", traffic);
        Assert.True(code == 0, stderr);

        await KillInsideTransactionAsync(store, "register", "train", "--data", traffic, "--model", "zscore", "--out", store.File("trained.sdm"), "--data-dir", store.DataDirectory);

        var registry = ModelRegistry.Open(store.Settings);
        Assert.Empty(registry.List());
        Assert.Empty(registry.History());
        Assert.Null(registry.Champion());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Promotions_killed_at_random_moments_always_leave_one_whole_champion(string kind)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        using var store = new RegistryStore(kind);
        var registry = ModelRegistry.Open(store.Settings);
        for (int i = 0; i < 3; i++) registry.Register(models.Files[i], VersionRegistration.Trained(OriginDetail.None));
        registry.Promote(models.Ids[0], "first");
        var random = new Random(11);
        int changed = 0;
        for (int round = 0; round < 8; round++)
        {
            string champion = registry.Champion()!.Id;
            string next = models.Ids.Where(id => id != champion).ElementAt(random.Next(2));
            using (var process = EngineProcess.Start(null, "models", "promote", next, "--config", store.Overlay))
            {
                // The process starts in about a second here: kills land before, inside and after its transaction.
                await Task.Delay(random.Next(300, 2500), TestContext.Current.CancellationToken);
                process.KillHard();
            }
            var after = registry.Champion()!.Id;
            Assert.Contains(after, new[] { champion, next });
            if (after == next) changed++;
            var versions = registry.List();
            Assert.Equal(after, Assert.Single(versions, v => v.Status == ModelStatus.Champion).Id);
            foreach (var version in versions) Assert.Equal(registry.History(version.Id)[^1].To, version.Status);
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{changed} of 8 killed promotions had committed");
    }

    /// <summary>
    /// A store of <paramref name="kind"/> (skipped when not available here) with the fixture's first two versions
    /// registered and the first <paramref name="promoted"/> of them promoted in turn ("first", "second").
    /// </summary>
    private (RegistryStore Store, ModelRegistry Registry) StoreWithTwoVersions(string kind, int promoted)
    {
        RegistryStore.SkipUnlessAvailable(kind);
        var store = new RegistryStore(kind);
        var registry = ModelRegistry.Open(store.Settings);
        for (int i = 0; i < 2; i++) registry.Register(models.Files[i], VersionRegistration.Trained(OriginDetail.None));
        string[] reasons = ["first", "second"];
        for (int i = 0; i < promoted; i++) registry.Promote(models.Ids[i], reasons[i]);
        return (store, registry);
    }

    /// <summary>Runs the command with the pause hook on <paramref name="operation"/>, waits until it is paused in its transaction, and kills it (SIGKILL).</summary>
    private static async Task KillInsideTransactionAsync(RegistryStore store, string operation, params string[] arguments)
    {
        using var process = EngineProcess.StartWithEnvironment(null, new Dictionary<string, string> { ["STREAMDETECT_TEST_PAUSE_IN_REGISTRY"] = operation },
            [.. arguments, "--config", store.Overlay]);
        await Probe.UntilAsync(() => Task.FromResult(process.Stderr.Contains($"paused inside the {operation} transaction")), Timeout, () => process.Stderr + process.Stdout);
        process.KillHard();
    }
}
