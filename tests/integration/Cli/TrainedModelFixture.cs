using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// Labelled traffic (`gen`, 200 users over 2 days) and a zscore model trained on it (`train`, about a
/// second), made once for a test class by the CLI itself; a run of the model over the traffic alerts.
/// </summary>
public sealed class TrainedModelFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("sd-cli-model-");

    public string Directory => _directory.Path;

    public string Traffic => _directory.File("traffic.jsonl");

    public string Model => _directory.File("zscore.sdm");

    public async ValueTask InitializeAsync()
    {
        var timeout = TimeSpan.FromMinutes(2);
        var (code, _, stderr) = await EngineProcess.RunAsync(Directory, timeout, "gen", "--users", "200", "--days", "2", "--seed", "3", "--out", Traffic);
        if (code != 0) throw new InvalidOperationException($"gen failed ({code}): {stderr}");
        (code, _, stderr) = await EngineProcess.RunAsync(Directory, timeout, "train", "--data", Traffic, "--model", "zscore", "--out", Model);
        if (code != 0) throw new InvalidOperationException($"train failed ({code}): {stderr}");
    }

    public ValueTask DisposeAsync()
    {
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }
}
