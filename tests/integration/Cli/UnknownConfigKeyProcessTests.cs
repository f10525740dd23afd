using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>A misspelt key in an overlay, met as a user meets it: a separate `streamdetect` process.</summary>
public sealed class UnknownConfigKeyProcessTests
{
    [Fact]
    public async Task A_misspelt_key_in_a_config_file_exits_2_with_one_line_suggesting_the_key_meant()
    {
        using var dir = new TempDirectory();
        string overlay = dir.File("overlay.conf");
        await File.WriteAllTextAsync(overlay, "streamdetect.scoring.batcher {\n  max-bacth = 64\n}\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, TimeSpan.FromMinutes(2), "run", "--config", overlay);

        Assert.Equal(2, code);
        Assert.Equal($"error: setting 'streamdetect.scoring.batcher.max-bacth' in {overlay}: unknown key (did you mean 'max-batch'?)",
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(dir.File("data")), "nothing was started: the data directory was not created");
    }
}
