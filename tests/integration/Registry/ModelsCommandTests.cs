using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Cli;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Registry;

/// <summary>`streamdetect models ...` and the registration by `run` and `train --data-dir`, as separate processes.</summary>
public sealed class ModelsCommandTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Train_with_a_data_dir_registers_its_model_as_the_first_champion_and_list_and_show_say_so()
    {
        using var store = new RegistryStore("sqlite");

        var (code, _, stderr) = await EngineProcess.RunAsync(null, Timeout, "train", "--data", trained.Traffic, "--model", "zscore", "--out", store.File("a.sdm"),
            "--data-dir", store.DataDirectory);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = await EngineProcess.RunAsync(null, Timeout, "train", "--data", trained.Traffic, "--model", "zscore", "--out", store.File("b.sdm"),
            "--data-dir", store.DataDirectory, "--train-days", "1");
        Assert.True(code == 0, stderr);

        var versions = ModelRegistry.Open(store.Settings).List();
        Assert.Equal([ModelStatus.Champion, ModelStatus.Candidate], versions.Select(v => v.Status));
        Assert.Contains($"model registry: zscore@{versions[1].Id} registered as a candidate", stderr);
        Assert.Contains($"the champion stays zscore@{versions[0].Id}", stderr);
        Assert.Equal(ModelRegistry.ContentId(await File.ReadAllBytesAsync(store.File("a.sdm"), TestContext.Current.CancellationToken)), versions[0].Id);
        var (listCode, list, _) = await EngineProcess.RunAsync(null, Timeout, "models", "list", "--data-dir", store.DataDirectory);
        Assert.Equal(0, listCode);
        Assert.Matches($@"{versions[0].Id}\s+zscore\s+champion\s+trained\s+-", list);
        Assert.Matches($@"{versions[1].Id}\s+zscore\s+candidate\s+trained\s+-", list);
        Assert.Contains($"champion: zscore@{versions[0].Id}", list);
        var (showCode, show, _) = await EngineProcess.RunAsync(null, Timeout, "models", "show", versions[1].Id, "--data-dir", store.DataDirectory);
        Assert.Equal(0, showCode);
        Assert.Matches(@"origin\s+trained \(train --data .*traffic.jsonl; [\d,]+ samples; events 2026-", show);
        Assert.Matches(@"registered\s+-> candidate", show);
    }

    [Fact]
    public async Task A_run_registers_the_model_it_scores_with_and_crowns_it_in_an_empty_registry()
    {
        using var store = new RegistryStore("sqlite");

        var (code, _, stderr) = await EngineProcess.RunAsync(null, Timeout, "run", "--input", trained.Traffic, "--model", trained.Model,
            "--data-dir", store.DataDirectory, "--alerts", store.File("alerts.jsonl"));

        Assert.True(code == 0, stderr);
        var champion = ModelRegistry.Open(store.Settings).Champion();
        Assert.NotNull(champion);
        Assert.Equal(ModelRegistry.ContentId(await File.ReadAllBytesAsync(trained.Model, TestContext.Current.CancellationToken)), champion.Id);
        Assert.Equal($"model file {trained.Model}", champion.Detail.Source);
        Assert.Contains($"model registry: zscore@{champion.Id} registered as a candidate", stderr);
        Assert.Contains("it is the champion (the registry's first model)", stderr);
    }

    [Fact]
    public async Task Promote_and_rollback_by_the_command_line_change_the_champion_and_say_what_they_did()
    {
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        var (a, _) = registry.Register(await File.ReadAllBytesAsync(trained.Model, TestContext.Current.CancellationToken), VersionRegistration.Trained(OriginDetail.None));
        var (code, _, stderr) = await EngineProcess.RunAsync(null, Timeout, "train", "--data", trained.Traffic, "--model", "zscore", "--out", store.File("b.sdm"),
            "--train-days", "1", "--data-dir", store.DataDirectory);
        Assert.True(code == 0, stderr);
        string b = registry.List().Single(v => v.Id != a.Id).Id;

        var promote = await EngineProcess.RunAsync(null, Timeout, "models", "promote", a.Id, "--data-dir", store.DataDirectory, "--reason", "by hand");
        var rollback = await EngineProcess.RunAsync(null, Timeout, "models", "rollback", "--data-dir", store.DataDirectory, "--reason", "too many alerts");
        var nothingLeft = await EngineProcess.RunAsync(null, Timeout, "models", "rollback", "--data-dir", store.DataDirectory);

        Assert.Equal((0, $"promoted zscore@{a.Id} (was candidate) to champion; zscore@{b} is retired"), (promote.ExitCode, promote.Stdout.Trim()));
        Assert.Equal((0, $"rolled back zscore@{a.Id} (now rejected); the champion is zscore@{b} again"), (rollback.ExitCode, rollback.Stdout.Trim()));
        Assert.Equal(2, nothingLeft.ExitCode);
        Assert.Equal($"error: model version '{b}' is the first champion of the registry; there is no earlier one to roll back to (promote a version by id)", nothingLeft.Stderr.Trim());
        Assert.Equal("too many alerts", registry.History(a.Id)[^1].Reason);
    }

    [Theory]
    [InlineData("show")]
    [InlineData("promote")]
    public async Task An_unknown_version_id_is_one_line_naming_it_with_exit_code_2(string subcommand)
    {
        using var store = new RegistryStore("sqlite");
        ModelRegistry.Open(store.Settings).Register(await File.ReadAllBytesAsync(trained.Model, TestContext.Current.CancellationToken), VersionRegistration.Trained(OriginDetail.None));

        var (code, stdout, stderr) = await EngineProcess.RunAsync(null, Timeout, "models", subcommand, "0123456789abcdef", "--data-dir", store.DataDirectory);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("error: model version '0123456789abcdef' is not in the registry (`streamdetect models list` shows the versions)", stderr.Trim());
    }

    [Fact]
    public async Task A_missing_data_directory_or_one_without_a_store_is_one_line_with_exit_code_2_and_creates_nothing()
    {
        using var store = new RegistryStore("sqlite");
        Directory.CreateDirectory(store.File("empty"));

        var missing = await EngineProcess.RunAsync(null, Timeout, "models", "list", "--data-dir", store.File("nowhere"));
        var empty = await EngineProcess.RunAsync(null, Timeout, "models", "show", "0123456789abcdef", "--data-dir", store.File("empty"));

        Assert.Equal((2, $"error: data directory '{store.File("nowhere")}' (--data-dir, streamdetect.store.data-dir) does not exist"), (missing.ExitCode, missing.Stderr.Trim()));
        Assert.Equal((2, $"error: data directory '{store.File("empty")}' holds no store (streamdetect.db is missing); models are registered by `run` and `train --data-dir`"),
            (empty.ExitCode, empty.Stderr.Trim()));
        Assert.False(Directory.Exists(store.File("nowhere")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.File("empty")));
    }

    [Fact]
    public async Task An_unreachable_PostgreSQL_store_is_one_line_naming_the_connection_setting_with_exit_code_3()
    {
        using var store = new RegistryStore("sqlite");
        string overlay = store.File("unreachable.conf");
        await File.WriteAllTextAsync(overlay, """
            streamdetect.store {
              kind = postgres
              postgres.connection-string = "Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=2"
              retry.give-up-after = 1s
            }
            """, TestContext.Current.CancellationToken);

        var (code, _, stderr) = await EngineProcess.RunAsync(null, Timeout, "models", "list", "--config", overlay);

        Assert.Equal(3, code);
        string line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: PostgreSQL store 127.0.0.1:1/none", line);
        Assert.EndsWith("(check streamdetect.store.postgres.connection-string)", line);
    }
}
