using StreamDetect.Models.Baselines;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Tests.Training;

/// <summary>Hyper-parameters are looked up by detector kind; a kind owns its record type and defaults.</summary>
public sealed class ModelHyperParametersTests
{
    public static TheoryData<string> Kinds => [.. DetectorRegistry.Default.Names];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_owns_defaults_of_its_hyper_parameter_type(string name)
    {
        var kind = DetectorRegistry.Default.Get(name);
        Assert.Equal(name, kind.Name);
        Assert.IsType(kind.HyperParameterType, kind.DefaultHyperParameters);
        Assert.Same(kind.DefaultHyperParameters, ModelHyperParameters.Defaults.For(kind));
        Assert.False(string.IsNullOrWhiteSpace(kind.Description));
    }

    [Fact]
    public void Lstm_and_gru_share_a_record_type_with_their_own_defaults()
    {
        var lstm = RecurrentNextEventDetector.LstmKind;
        var gru = RecurrentNextEventDetector.GruKind;
        Assert.Equal(lstm.HyperParameterType, gru.HyperParameterType);
        Assert.Equal(RecurrentCell.Lstm, lstm.DefaultHyperParameters.Cell);
        Assert.Equal(RecurrentCell.Gru, gru.DefaultHyperParameters.Cell);
    }

    [Fact]
    public void Setting_one_kinds_hyper_parameters_leaves_every_other_kind_alone()
    {
        var gru = RecurrentNextEventDetector.GruKind;
        var models = ModelHyperParameters.Defaults.With(gru, p => p with { Hidden = 17 });

        Assert.Equal(gru.DefaultHyperParameters with { Hidden = 17 }, models.For(gru));
        foreach (var kind in DetectorRegistry.Default.Kinds.Where(k => k != gru))
            Assert.Same(kind.DefaultHyperParameters, models.For(kind));
        Assert.Same(gru.DefaultHyperParameters, ModelHyperParameters.Defaults.For(gru)); // the original is unchanged
    }

    [Fact]
    public void A_kind_refuses_another_kinds_record()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.GruKind, (object)new ZScoreHyperParameters()));
        Assert.Contains("'gru' takes RecurrentHyperParameters, not ZScoreHyperParameters", error.Message);
    }

    [Fact]
    public void Training_reads_a_kinds_own_hyper_parameters_from_the_context()
    {
        var options = new TrainingOptions
        {
            Models = ModelHyperParameters.Defaults
                .With(RecurrentNextEventDetector.GruKind, p => p with { Epochs = 2 })
                .With(RecurrentNextEventDetector.LstmKind, p => p with { Epochs = 5 }),
        };
        var empty = DatasetBuilder.Build([]);
        var context = new TrainingContext(empty, empty, options, torch.CPU);

        Assert.Equal(2, context.HyperParameters(RecurrentNextEventDetector.GruKind).Epochs);
        Assert.Equal(5, context.HyperParameters(RecurrentNextEventDetector.LstmKind).Epochs);
        Assert.Equal(new ZScoreHyperParameters(), context.HyperParameters(RobustZScoreDetector.Kind));
    }

    [Fact]
    public void An_ensemble_names_registered_kinds_and_a_wrong_name_is_refused_before_any_member_trains()
    {
        var data = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 40, anomalousUsers: 0, days: 1, seed: 2));
        var options = new TrainingOptions
        {
            Device = "cpu",
            Models = ModelHyperParameters.Defaults.With(EnsembleDetector.Kind, p => p with { Members = ["zscore", "zscor"] }),
        };
        var progress = new Messages();

        var error = Assert.Throws<ArgumentException>(() => DetectorTrainer.Train("ensemble", data, options, progress, TestContext.Current.CancellationToken));

        Assert.StartsWith("streamdetect.models.ensemble.members: unknown model 'zscor' (known: lstm, gru,", error.Message);
        Assert.DoesNotContain(progress.All, m => m.Contains("training member", StringComparison.Ordinal));
    }

    private sealed class Messages : IProgress<TrainingProgress>
    {
        public List<string> All { get; } = [];

        public void Report(TrainingProgress value) => All.Add(value.ToString());
    }
}
