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

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count, top = Math.Min(_parameters.Top, f);
        var scores = new double[count];
        Span<int> best = stackalloc int[top];
        for (int r = 0; r < count; r++)
        {
            var row = scaled.AsSpan(r * f, f);
            int filled = 0;
            for (int j = 0; j < f; j++)
            {
                float z = Math.Abs(row[j]);
                if (filled < top) { best[filled++] = j; continue; }
                int min = 0;
                for (int q = 1; q < top; q++) if (Math.Abs(row[best[q]]) < Math.Abs(row[best[min]])) min = q;
                if (z > Math.Abs(row[best[min]])) best[min] = j;
            }
            double sum = 0;
            for (int q = 0; q < filled; q++)
            {
                float z = Math.Abs(row[best[q]]);
                sum += z;
                contributions[r * f + best[q]] = z;
            }
            scores[r] = sum / filled;
        }
        return scores;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        writer.Add("scaler", Scaler.WriteTo);
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
            var detector = new RobustZScoreDetector(file.ReadJson<ZScoreHyperParameters>("hyperparameters"), file.Read("scaler", FeatureScaler.ReadFrom), device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
