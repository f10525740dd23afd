using System.Text.Json;
using System.Text.RegularExpressions;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Configuration;
using TorchSharp;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary>
/// Each detector kind's hyper-parameters come from its own HOCON block <c>streamdetect.models.&lt;name&gt;</c>,
/// and every registered kind ships a block whose keys are exactly its hyper-parameters, each commented.
/// </summary>
public sealed class TrainingOptionsReaderTests
{
    private const string ModelsBlock = "streamdetect.models";

    public static TheoryData<string> Kinds => [.. DetectorRegistry.Default.Names];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_registered_kind_has_a_block_in_the_embedded_defaults_whose_keys_are_exactly_its_hyper_parameters(string name)
    {
        var kind = DetectorRegistry.Default.Get(name);
        string path = $"{ModelsBlock}.{name}";
        Assert.True(EngineConfig.Reference.HasPath(path), $"hocon/streamdetect.conf has no block {path}");

        var inHocon = EngineConfig.Reference.GetConfig(path).AsEnumerable().Select(e => e.Key.Trim('"')).ToHashSet();
        var hyperParameters = TrainingOptionsReader.HyperParameterKeys(kind).ToHashSet();
        Assert.True(inHocon.SetEquals(hyperParameters),
            $"{path}: missing from the block: [{string.Join(", ", hyperParameters.Except(inHocon))}]; " +
            $"not hyper-parameters of '{name}': [{string.Join(", ", inHocon.Except(hyperParameters))}]");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_embedded_defaults_of_a_kind_are_its_own_defaults(string name)
    {
        var kind = DetectorRegistry.Default.Get(name);
        var read = TrainingOptionsReader.Read(EngineConfig.Reference).Models.For(kind);
        Assert.Equal(Json(kind.DefaultHyperParameters), Json(read));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_key_of_a_kinds_block_in_the_shipped_file_has_a_comment_above_it(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "hocon", "streamdetect.conf"));
        int models = Array.FindIndex(lines, l => l == "  models {");
        int open = Array.FindIndex(lines, models + 1, l => l == $"    {name} {{");
        Assert.True(models >= 0 && open > models, $"no '{name} {{' block inside 'models {{' in hocon/streamdetect.conf");
        int close = Array.FindIndex(lines, open + 1, l => l == "    }");
        var keys = 0;
        for (int i = open + 1; i < close; i++)
        {
            var key = Regex.Match(lines[i], @"^\s*([a-z0-9-]+)\s*=");
            if (!key.Success) continue;
            keys++;
            Assert.True(lines[i - 1].TrimStart().StartsWith('#'), $"{ModelsBlock}.{name}.{key.Groups[1].Value} has no comment above it");
        }
        Assert.Equal(TrainingOptionsReader.HyperParameterKeys(DetectorRegistry.Default.Get(name)).Count, keys);
    }

    [Fact]
    public void A_kinds_hyper_parameters_are_read_from_its_own_block_only()
    {
        var options = TrainingOptionsReader.Read(EngineConfig.Load(overrides: """
            streamdetect.models.gru { hidden = 17, field-embedding = 5 }
            streamdetect.models.transformer.learning-rate = 0.5
            """));

        var gru = options.Models.For(RecurrentNextEventDetector.GruKind);
        var lstm = options.Models.For(RecurrentNextEventDetector.LstmKind);
        Assert.Equal(RecurrentNextEventDetector.GruKind.DefaultHyperParameters with { Hidden = 17, FieldEmbedding = 5 }, gru);
        Assert.Equal(RecurrentNextEventDetector.LstmKind.DefaultHyperParameters, lstm); // same record type and keys, its own block
        Assert.Equal(RecurrentCell.Gru, gru.Cell);
        Assert.Equal(RecurrentCell.Lstm, lstm.Cell);
        Assert.Equal(16, options.Models.For(TransformerNextEventDetector.Kind).FieldEmbedding);
        Assert.Equal(0.5, options.Models.For(TransformerNextEventDetector.Kind).LearningRate);
    }

    [Fact]
    public void A_new_kind_is_read_from_its_block_by_its_registry_name_with_its_own_defaults()
    {
        var registry = new DetectorRegistry();
        var alpha = new FakeKind("alpha", new FakeParameters());
        var beta = new FakeKind("beta", new FakeParameters { Width = 8, Mode = EnsembleCombination.Vote });
        registry.Register(alpha);
        registry.Register(beta);

        var options = TrainingOptionsReader.Read(EngineConfig.Load(overrides: """
            streamdetect.models.alpha { width = 9, mode = mean, names = [x, y], enabled = off }
            """), registry);

        Assert.Equal(["width", "rate", "mode", "names", "enabled"], TrainingOptionsReader.HyperParameterKeys(alpha));
        var a = options.Models.For(alpha);
        Assert.Equal((9, 0.25, EnsembleCombination.Mean, false), (a.Width, a.Rate, a.Mode, a.Enabled));
        Assert.Equal(["x", "y"], a.Names);
        Assert.Same(beta.DefaultHyperParameters, options.Models.For(beta)); // no block: the kind's own defaults
    }

    [Theory]
    [InlineData("hidden = lots", "streamdetect.models.gru.hidden", "'lots' is not a number")]
    [InlineData("hidden = 1.5", "streamdetect.models.gru.hidden", "has a value of the wrong type")]
    [InlineData("hiden = 3", "streamdetect.models.gru.hiden", "is not a setting of 'gru' (known: cell, field-embedding, hidden,")]
    [InlineData("cell = square", "streamdetect.models.gru.cell", "'square' is not one of: lstm, gru")]
    public void A_bad_value_in_a_kinds_block_names_its_key(string setting, string key, string problem)
    {
        var error = Assert.Throws<SettingsException>(() =>
            TrainingOptionsReader.Read(EngineConfig.Load(overrides: $"streamdetect.models.gru {{ {setting} }}")));
        Assert.Equal(key, error.Key);
        Assert.StartsWith($"setting '{key}': ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Fixed_choices_read_as_enums_and_refuse_other_words_naming_the_key()
    {
        var options = TrainingOptionsReader.Read(EngineConfig.Load(overrides: """
            streamdetect.models.calibration.basis = event
            streamdetect.models.ensemble.combine = vote
            """));
        Assert.Equal(CalibrationBasis.Event, options.Calibration.Basis);
        Assert.Equal(EnsembleCombination.Vote, options.Models.For(EnsembleDetector.Kind).Combine);
        Assert.Equal(CalibrationBasis.UserDay, TrainingOptionsReader.Read(EngineConfig.Reference).Calibration.Basis);

        var basis = Assert.Throws<SettingsException>(() =>
            TrainingOptionsReader.Read(EngineConfig.Load(overrides: "streamdetect.models.calibration.basis = daily")));
        Assert.Equal("setting 'streamdetect.models.calibration.basis': 'daily' is not one of: user-day, event", basis.Message);
        var combine = Assert.Throws<SettingsException>(() =>
            TrainingOptionsReader.Read(EngineConfig.Load(overrides: "streamdetect.models.ensemble.combine = median")));
        Assert.Equal("streamdetect.models.ensemble.combine", combine.Key);
    }

    private static string Json(object value) => JsonSerializer.Serialize(value, value.GetType());

    [Theory]
    [InlineData("[gru, zscor]", "unknown model 'zscor' (known: lstm, gru, transformer, ae, gan, knn, zscore, iforest, novelty)")]
    [InlineData("[gru, ensemble]", "an ensemble cannot be a member of itself")]
    [InlineData("[]", "is empty")]
    public void The_ensemble_members_are_checked_when_the_settings_are_read_before_any_member_trains(string members, string problem)
    {
        var error = Assert.Throws<SettingsException>(() =>
            TrainingOptionsReader.Read(EngineConfig.Load(overrides: $"streamdetect.models.ensemble.members = {members}")));

        Assert.Equal("streamdetect.models.ensemble.members", error.Key);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void An_unknown_ensemble_challenger_is_refused_naming_its_key_and_an_empty_list_is_allowed()
    {
        var error = Assert.Throws<SettingsException>(() =>
            TrainingOptionsReader.Read(EngineConfig.Load(overrides: "streamdetect.models.ensemble.challengers = [novelt]")));
        Assert.Equal("streamdetect.models.ensemble.challengers", error.Key);
        Assert.Contains("unknown model 'novelt'", error.Message);
        TrainingOptionsReader.Read(EngineConfig.Load(overrides: "streamdetect.models.ensemble.challengers = []"));
    }

    private sealed record FakeParameters
    {
        public int Width { get; init; } = 3;

        public double Rate { get; init; } = 0.25;

        public EnsembleCombination Mode { get; init; } = EnsembleCombination.Max;

        public IReadOnlyList<string> Names { get; init; } = ["a"];

        public bool Enabled { get; init; } = true;
    }

    private sealed class FakeKind(string name, FakeParameters defaults) : IDetectorKind<FakeParameters>
    {
        public string Name => name;

        public string Description => "a kind that only has hyper-parameters";

        public FakeParameters DefaultHyperParameters => defaults;

        public AnomalyDetector Train(TrainingContext context) => throw new NotSupportedException();

        public AnomalyDetector Load(ModelFileReader file, torch.Device device) => throw new NotSupportedException();
    }
}
