using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;

namespace StreamDetect.Engine.Tests.Pipeline;

/// <summary>Inputs and outputs are registered once, by kind and HOCON name; the pipeline layer does not depend on the CLI.</summary>
public sealed class RegistryTests
{
    [Fact]
    public void Every_source_kind_has_one_input_found_by_its_name()
    {
        Assert.Equal(["file", "generator", "kafka"], EventInputs.Names);
        foreach (var kind in Enum.GetValues<EventSourceKind>())
            Assert.Equal(kind, EventInputs.Named(EventInputs.For(kind).Name, "--source").Kind);
        var e = Assert.Throws<UserInputException>(() => EventInputs.Named("ftp", "streamdetect.source"));
        Assert.Equal("streamdetect.source: unknown source 'ftp' (known: file, generator, kafka)", e.Message);
    }

    [Fact]
    public void Every_alert_sink_kind_has_one_output_found_by_its_name()
    {
        foreach (var kind in Enum.GetValues<AlertSinkKind>())
            Assert.Equal(kind, AlertOutputs.Named(AlertOutputs.For(kind).Name, "streamdetect.alerts.sink").Kind);
        var e = Assert.Throws<UserInputException>(() => AlertOutputs.Named("email", "streamdetect.alerts.sink"));
        Assert.Contains("unknown alert sink 'email' (known: auto, stdout, file, kafka, none)", e.Message);
    }

    [Fact]
    public void Every_dead_letter_sink_kind_has_a_name()
    {
        foreach (var kind in Enum.GetValues<DeadLetterSinkKind>())
            Assert.Equal(kind, DeadLetterOutputs.Named(DeadLetterOutputs.NameOf(kind), "streamdetect.dead-letters.sink"));
        Assert.Throws<UserInputException>(() => DeadLetterOutputs.Named("s3", "streamdetect.dead-letters.sink"));
    }

    [Fact]
    public void Nothing_under_engine_Pipeline_uses_the_CLI_layer()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "StreamDetect.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        var offenders = Directory.EnumerateFiles(Path.Combine(root, "engine", "Pipeline"), "*.cs", SearchOption.AllDirectories)
            .Where(file => File.ReadAllText(file).Contains("Engine.Cli", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(root, file))
            .ToList();
        Assert.Empty(offenders);
    }
}
