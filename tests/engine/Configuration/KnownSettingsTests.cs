using System.Text.RegularExpressions;
using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

public sealed class KnownSettingsTests
{
    private static void Check(string hocon) => KnownSettings.Default.Check(ConfigurationFactory.ParseString(hocon), "overlay.conf");

    private static SettingsException Refused(string hocon) => Assert.Throws<SettingsException>(() => Check(hocon));

    [Fact]
    public void A_misspelt_key_in_an_overlay_file_is_refused_with_the_nearest_sibling()
    {
        string file = Path.Combine(Path.GetTempPath(), $"overlay-{Guid.NewGuid():N}.conf");
        try
        {
            File.WriteAllText(file, "streamdetect.scoring.batcher {\n  max-wait = 2ms\n  max-bacth = 64\n}\n");
            var error = Assert.Throws<SettingsException>(() => EngineConfig.Load([file]));
            Assert.Equal("streamdetect.scoring.batcher.max-bacth", error.Key);
            Assert.Equal($"setting 'streamdetect.scoring.batcher.max-bacth' in {file}: unknown key (did you mean 'max-batch'?)", error.Message);

            File.WriteAllText(file, "streamdetect.scoring.batcher.max-batch = 64\n");
            Assert.Equal(64, EngineConfig.Load([file]).GetInt("streamdetect.scoring.batcher.max-batch"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("streamdetect.scorring.batcher.max-batch = 1", "streamdetect.scorring", "did you mean 'scoring'?")]
    [InlineData("streamdetect { routing { partitons = 8 } }", "streamdetect.routing.partitons", "did you mean 'partitions'?")]
    [InlineData("streamdetect.models.gru.hiden = 8", "streamdetect.models.gru.hiden", "did you mean 'hidden'?")]
    [InlineData("streamdetect.models.gur { hidden = 8 }", "streamdetect.models.gur", "did you mean 'gru'?")]
    [InlineData("streamdetect.store.sqlite.journal.parallelizm = 2", "streamdetect.store.sqlite.journal.parallelizm", "did you mean 'parallelism'?")]
    [InlineData("streamdetect.kafka.consumer.pol-timeout = 1s", "streamdetect.kafka.consumer.pol-timeout", "did you mean 'poll-timeout'?")]
    [InlineData("streamdetect.alerts.Cooldown = 1h", "streamdetect.alerts.Cooldown", "did you mean 'cooldown'?")]
    [InlineData("streamdetect.validation.zebra = 1", "streamdetect.validation.zebra", "the keys of streamdetect.validation are: max-record-bytes")]
    public void An_unknown_key_names_its_path_and_a_suggestion(string hocon, string key, string hint)
    {
        var error = Refused(hocon);
        Assert.Equal(key, error.Key);
        Assert.Contains("in overlay.conf: unknown key (", error.Message);
        Assert.Contains(hint, error.Message);
    }

    [Fact]
    public void A_block_set_where_the_defaults_have_a_value_is_refused()
    {
        var error = Refused("streamdetect.routing.partitions { count = 8 }");
        Assert.Equal("streamdetect.routing.partitions", error.Key);
        Assert.Contains("not a block", error.Message);
    }

    [Fact]
    public void Raw_client_properties_are_free_form()
    {
        Check("""
            streamdetect.kafka {
              properties { "security.protocol" = SASL_SSL, sasl.mechanism = PLAIN }
              consumer.properties { "fetch.min.bytes" = 1 }
              producer.properties { "compression.type" = lz4 }
              feedback.properties { "session.timeout.ms" = 10000 }
            }
            """);
    }

    [Fact]
    public void Every_plugin_key_of_the_store_blocks_is_accepted_not_only_the_tuned_ones()
    {
        // replay-batch-size and table-mapping are Akka.Persistence.Sql keys the defaults do not set;
        // circuit-breaker and event-adapters come from Akka.Persistence's plugin fallback.
        Check("""
            streamdetect.store.sqlite.journal {
              replay-batch-size = 500
              table-mapping = sqlite
              circuit-breaker { max-failures = 5, call-timeout = 20s }
              event-adapters { tagger = "My.Tagger, My" }
            }
            streamdetect.store.postgres.snapshot-store.table-mapping = postgresql
            """);
    }

    [Fact]
    public void Every_hyper_parameter_of_every_registered_detector_kind_is_a_known_key()
    {
        foreach (var kind in DetectorRegistry.Default.Kinds)
        {
            foreach (string key in TrainingOptionsReader.HyperParameterKeys(kind))
                Assert.True(KnownSettings.Default.IsKnown($"streamdetect.models.{kind.Name}.{key}"), $"streamdetect.models.{kind.Name}.{key}");
        }
    }

    [Fact]
    public void Keys_outside_streamdetect_are_not_checked()
    {
        Check("akka.loglevel = INFO\nakka.some.plugin.key = 1\nmy-own { anything = 1 }");
    }

    [Fact]
    public void Every_shipped_overlay_and_every_docker_STREAMDETECT_HOCON_passes_the_check()
    {
        string hocon = Path.Combine(AppContext.BaseDirectory, "hocon");
        var files = Directory.GetFiles(hocon, "*.conf");
        Assert.Contains(files, f => Path.GetFileName(f) == "kafka.conf");
        foreach (string file in files) EngineConfig.Load([file]);
        EngineConfig.Load(files.Where(f => Path.GetFileName(f) != "streamdetect.conf"));

        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "StreamDetect.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        string compose = File.ReadAllText(Path.Combine(root, "docker", "docker-compose.yml"));
        // Single-quoted YAML as the file writes it ('' is a quote), or double-quoted (\" is a quote).
        var values = Regex.Matches(compose, @"STREAMDETECT_HOCON:\s*(?:'(?<s>(?:[^']|'')*)'|""(?<d>(?:[^""\\]|\\.)*)"")")
            .Select(m => m.Groups["s"].Success ? m.Groups["s"].Value.Replace("''", "'") : Regex.Unescape(m.Groups["d"].Value)).ToList();
        Assert.NotEmpty(values);
        Assert.Equal(Regex.Matches(compose, "STREAMDETECT_HOCON:").Count, values.Count); // none skipped for its quoting
        foreach (string value in values) KnownSettings.Default.Check(ConfigurationFactory.ParseString(value), "$STREAMDETECT_HOCON");
        foreach (string config in Regex.Matches(compose, "\"/app/hocon/(?<f>[^\"]+)\"").Select(m => m.Groups["f"].Value).Distinct())
            Assert.True(File.Exists(Path.Combine(hocon, config)), $"docker-compose.yml names hocon/{config}, which is not shipped");
    }

    [Theory]
    [InlineData("max-bacth", "max-batch", 1)]
    [InlineData("max-batch", "max-batch", 0)]
    [InlineData("parallelizm", "parallelism", 1)]
    [InlineData("abc", "acb", 1)]
    [InlineData("kitten", "sitting", 3)]
    public void The_distance_counts_a_swap_of_neighbours_as_one_edit(string a, string b, int expected)
    {
        Assert.Equal(expected, KeySuggestion.Distance(a, b));
    }

    [Fact]
    public void A_far_key_gets_no_suggestion()
    {
        Assert.Null(KeySuggestion.Nearest("zebra", ["max-batch", "max-wait"]));
        Assert.Equal("max-wait", KeySuggestion.Nearest("max-wiat", ["max-batch", "max-wait"]));
    }
}
