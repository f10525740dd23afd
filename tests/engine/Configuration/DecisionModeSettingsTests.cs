using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Sequence;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary>The sequence models' decision mode and k come from their own HOCON blocks; another word is refused naming the key.</summary>
public sealed class DecisionModeSettingsTests
{
    [Fact]
    public void Each_sequence_model_reads_its_decision_mode_and_k_from_its_own_block()
    {
        var options = TrainingOptionsReader.Read(EngineConfig.Load(overrides: """
            streamdetect.models.gru { decision = top-k, top-k = 9 }
            streamdetect.models.transformer.decision = top-k
            """));

        var gru = options.Models.For(RecurrentNextEventDetector.GruKind);
        Assert.Equal(NextEventDecisionMode.TopK, gru.Decision);
        Assert.Equal(9, gru.TopK);
        Assert.Equal(NextEventDecisionMode.Surprise, options.Models.For(RecurrentNextEventDetector.LstmKind).Decision);
        Assert.Equal(NextEventDecisionMode.TopK, options.Models.For(TransformerNextEventDetector.Kind).Decision);
        Assert.Equal(NextEventDecisionMode.Surprise, TrainingOptionsReader.Read(EngineConfig.Reference).Models.For(RecurrentNextEventDetector.GruKind).Decision);
    }

    [Fact]
    public void Another_decision_word_is_refused_naming_the_key()
    {
        var error = Assert.Throws<SettingsException>(() =>
            TrainingOptionsReader.Read(EngineConfig.Load(overrides: "streamdetect.models.lstm.decision = deeplog")));

        Assert.Equal("streamdetect.models.lstm.decision", error.Key);
        Assert.Contains("'deeplog' is not one of: surprise, top-k", error.Message, StringComparison.Ordinal);
    }
}
