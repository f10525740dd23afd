using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Engine.Tests.Configuration;

public sealed class EngineConfigTests
{
    [Theory]
    [InlineData("a = [1, 2", "'[' is never closed")]
    [InlineData("a { b = 1 ", "'{' is never closed")]
    [InlineData("a = }", "closes nothing")]
    [InlineData("a { b = [1 }", "closes the '['")]
    [InlineData("a = \"unterminated", "unterminated string")]
    public void Structurally_broken_HOCON_is_refused_with_its_line_and_column(string text, string problem)
    {
        Assert.Contains(problem, HoconSyntaxCheck.FindProblem(text));
    }

    [Fact]
    public void The_shipped_HOCON_files_are_well_formed()
    {
        string hocon = Path.Combine(AppContext.BaseDirectory, "hocon");
        var files = Directory.GetFiles(hocon, "*.conf");
        Assert.NotEmpty(files);
        foreach (string file in files) Assert.Null(HoconSyntaxCheck.FindProblem(File.ReadAllText(file)));
    }

    [Fact]
    public void Comments_strings_and_substitutions_do_not_confuse_the_check()
    {
        string text = string.Join("\n",
            "# a { comment",
            "a = \"}{ in a string \\\" with escape\" // and { here",
            "b = ${a}",
            "c = \"\"\"multi",
            "line { \"\"\"",
            "d { e = [1, 2] }");
        Assert.Null(HoconSyntaxCheck.FindProblem(text));
    }

    [Fact]
    public void An_overlay_wins_over_the_defaults_and_a_bad_value_names_its_key()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "streamdetect.validation.max-field-chars = 99\n");
            Assert.Equal(99, ValidationSettings.Create(EngineConfig.Load([file])).MaxFieldChars);

            File.WriteAllText(file, "streamdetect.validation.max-field-chars = many\n");
            var error = Assert.Throws<SettingsException>(() => ValidationSettings.Create(EngineConfig.Load([file])));
            Assert.Equal("streamdetect.validation.max-field-chars", error.Key);
            Assert.Contains("'many' is not an integer", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Every_settings_block_reads_from_the_embedded_defaults()
    {
        var config = EngineConfig.Reference;
        ValidationSettings.Create(config);
        StreamDetect.Stages.DeadLetters.DeadLetterSettings.Create(config);
        StreamDetect.Stages.Sources.FileSourceSettings.Create(config);
        StreamDetect.Stages.Generator.GeneratorSettings.Create(config);
        StreamDetect.Stages.Kafka.KafkaConsumerSettings.Create(config);
        StreamDetect.Stages.Kafka.KafkaProducerSettings.Create(config);
        var engine = StreamDetect.Engine.Hosting.EngineSettings.Create(config);
        Assert.Equal(64, engine.Routing.Partitions);
        Assert.Equal("sqlite", engine.Store.Kind);
    }

    [Fact]
    public void The_deployment_overlays_combine_into_valid_settings()
    {
        string hocon = Path.Combine(AppContext.BaseDirectory, "hocon");
        var config = EngineConfig.Load(new[] { "cluster.conf", "postgres.conf", "kafka.conf" }.Select(f => Path.Combine(hocon, f)),
            "streamdetect.store.postgres.connection-string = \"Host=db;Database=x\"");
        var engine = StreamDetect.Engine.Hosting.EngineSettings.Create(config);
        Assert.Equal("postgres", engine.Store.Kind);
        Assert.Equal("kafka", StreamDetect.Engine.Pipeline.RunSettings.Create(config).Source);
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Single(config.GetStringList("akka.cluster.seed-nodes"));
    }
}
