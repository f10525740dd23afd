using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Training;

/// <summary>What every training run is given (HOCON <c>streamdetect.models</c>, CLI options on top).</summary>
public sealed record TrainingOptions
{
    /// <summary>Seeds torch and every sampling decision: the same data and seed give the same model on CPU.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>When set, overrides every neural model's epoch count.</summary>
    public int? Epochs { get; init; }

    /// <summary>Share of users held out for early stopping, calibration and thresholds.</summary>
    public double ValidationFraction { get; init; } = 0.5;

    /// <summary>Leave out users with any event labelled anomalous (labels only filter; they never reach a model).</summary>
    public bool ExcludeLabelledUsers { get; init; } = true;

    /// <summary>Users per scoring batch in calibration replays.</summary>
    public int ScoringBatchSize { get; init; } = 1024;

    /// <summary>Wanted alert rate on normal users (per user over a period); picks the threshold in reports and eval.</summary>
    public double AlertRate { get; init; } = 0.005;

    /// <summary>torch intra-op threads (0 = torch's default). Process-wide: applied by the CLI, not by the trainer.</summary>
    public int TorchThreads { get; init; } = 1;

    /// <summary>Calibrated score from which outputs carry detailed explanations (see <see cref="Detection.AnomalyDetector.ExplainFrom"/>).</summary>
    public double ExplainFrom { get; init; } = 2.0;

    public CalibrationOptions Calibration { get; init; } = new();

    /// <summary>Every detector kind's hyper-parameters; a kind reads its own with <see cref="TrainingContext.HyperParameters{T}"/>.</summary>
    public ModelHyperParameters Models { get; init; } = ModelHyperParameters.Defaults;
}
