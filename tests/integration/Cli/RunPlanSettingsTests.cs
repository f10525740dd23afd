using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// Settings that cannot act on a run are never taken silently: a bad model hyper-parameter is refused even when the
/// run loads a model (which keeps its own), a changed one is named, and generator settings on a file run are warned about.
/// </summary>
public sealed class RunPlanSettingsTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void A_bad_decision_is_refused_naming_the_key_even_when_the_run_loads_a_model()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<SettingsException>(() => RunPlan.Create(FileRun(dir, trained.Model, "streamdetect.models.gru.decision = deeplog")));
        Assert.Equal("streamdetect.models.gru.decision", error.Key);
    }

    [Fact]
    public void A_changed_decision_is_named_as_fixed_at_training_when_the_run_loads_a_model()
    {
        using var dir = new TempDirectory();
        var loaded = RunPlan.Create(FileRun(dir, trained.Model, "streamdetect.models.gru.decision = top-k"));
        Assert.Equal(["streamdetect.models.gru.decision"], loaded.FixedAtTraining);

        // Training a model reads it, so nothing is noted then.
        Assert.Empty(RunPlan.Create(FileRun(dir, null, "streamdetect.models.gru.decision = top-k")).FixedAtTraining);
        Assert.Empty(RunPlan.Create(FileRun(dir, trained.Model, "")).FixedAtTraining);
    }

    [Fact]
    public void Generator_settings_on_a_file_run_are_warned_about_and_on_a_generator_run_they_are_not()
    {
        using var dir = new TempDirectory();
        const string overlay = "streamdetect.generator.scenarios = [card_testing]";

        var file = RunPlan.Create(FileRun(dir, trained.Model, overlay));
        string warning = Assert.Single(file.Warnings);
        Assert.StartsWith("streamdetect.generator.scenarios has no effect: the source is file", warning, StringComparison.Ordinal);

        Assert.Empty(RunPlan.Create(FileRun(dir, trained.Model, "")).Warnings);
        var generator = FileRun(dir, trained.Model, overlay) with { Source = EventSourceKind.Generator, Input = null };
        Assert.Empty(RunPlan.Create(generator).Warnings);
    }

    private RunRequest FileRun(TempDirectory dir, string? model, string overlay) => new(
        EngineConfig.Load(overrides: $"{overlay}\nstreamdetect.store.data-dir = {RunCommandHocon(dir.File("data"))}\nstreamdetect.models.device = cpu"),
        EventSourceKind.File, trained.Traffic, DeadLetterSinkKind.Count, null, model, AlertSinkKind.Stdout, null, null, null, null);

    private static string RunCommandHocon(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
