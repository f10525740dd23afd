using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Detection;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>`streamdetect train` names its models from the detector registry.</summary>
public sealed class TrainCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Train_help_lists_every_registered_kind_with_its_description()
    {
        var (code, stdout, _) = await EngineProcess.RunAsync(null, Timeout, "train", "--help");

        Assert.Equal(0, code);
        Assert.Contains(string.Join("|", DetectorRegistry.Default.Names), stdout);
        foreach (var kind in DetectorRegistry.Default.Kinds)
            Assert.Matches($@"\n\s+{kind.Name}\s+{System.Text.RegularExpressions.Regex.Escape(kind.Description)}", stdout);
    }

    [Fact]
    public async Task An_unknown_model_is_refused_naming_the_registered_ones()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("in.jsonl"), "", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "train", "--data", "in.jsonl", "--model", "lsmt", "--out", "m.sdm");

        Assert.Equal(2, code);
        Assert.Contains($"--model 'lsmt' is not one of: {string.Join(", ", DetectorRegistry.Default.Names)}", stderr);
    }
}
