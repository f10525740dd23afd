using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Baselines;

/// <summary>
/// Robust z-score / IQR baseline: every feature is scaled by the <see cref="FeatureScaler"/> (median and
/// IQR-based scale of normal training events), and the raw score is the mean of the
/// <see cref="ZScoreHyperParameters.Top"/> largest |z|. Explanation: those features' |z| shares.
/// No tensors: cheap enough to run beside every other model.
/// </summary>
public sealed class RobustZScoreDetector : FeatureDetector
{
    private readonly ZScoreHyperParameters _parameters;

    private RobustZScoreDetector(ZScoreHyperParameters parameters, FeatureScaler scaler, torch.Device device)
        : base("zscore", device, scaler, parameters.Clip, parameters.ExplainTop)
    {
        _parameters = parameters;
    }

    public static IDetectorKind<ZScoreHyperParameters> Kind { get; } = new KindImpl();

    /// <summary>
    /// A new z-score detector with the same hyper-parameters and its median/scale fitted on the events of
    /// <paramref name="data"/> (up to <see cref="ZScoreHyperParameters.MaxSamples"/> rows, chosen by
    /// <paramref name="seed"/>): what online fine-tuning gives a candidate so that its z-scores follow the population
    /// of the round. Uncalibrated: the caller calibrates it (the candidate ensemble is calibrated as a whole).
    /// </summary>
    internal RobustZScoreDetector Refitted(BehaviorDataset data, int seed)
    {
        var scaler = FeatureScaler.Fit(FeatureMatrix.Sample(data, _parameters.MaxSamples, seed));
        return new RobustZScoreDetector(_parameters, scaler, Device) { ExplainFrom = ExplainFrom };
    }

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count, top = Math.Min(_parameters.Top, f);
        var scores = new double[count];
        for (int r = 0; r < count; r++)
        {
            var row = scaled.AsSpan(r * f, f);
            if (!LargestMagnitudes.TrySum(row, top, out double sum)) sum = LargestMagnitudes.SlotSum(row, top);
            scores[r] = sum / top;
        }
        return scores;
    }

    /// <summary>The explanation's shares: the |z| of the features the score averaged, 0 for the others.</summary>
    protected override ReadOnlySpan<float> Contributions(ReadOnlySpan<float> scaledRow, ReadOnlySpan<float> scored, Span<float> scratch)
    {
        int top = Math.Min(_parameters.Top, scaledRow.Length);
        Span<int> best = stackalloc int[top];
        Span<float> values = stackalloc float[top];
        int filled = LargestMagnitudes.Select(scaledRow, best, values);
        scratch.Clear();
        for (int q = 0; q < filled; q++) scratch[best[q]] = values[q];
        return scratch;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        WriteScaler(writer);
    }

    private sealed class KindImpl : IDetectorKind<ZScoreHyperParameters>
    {
        public string Name => "zscore";

        public string Description => "robust z-score / IQR baseline over the feature vector";

        public ZScoreHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            var scaler = FeatureScaler.Fit(context.Features(p.MaxSamples));
            context.Report(Name, $"fitted median/IQR scaling of {FeatureSchema.Count} features");
            return new RobustZScoreDetector(p, scaler, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, torch.Device device)
        {
            var detector = new RobustZScoreDetector(file.ReadJson<ZScoreHyperParameters>("hyperparameters"), ReadScaler(file), device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
